import { Inject, Injectable } from '@nestjs/common';
import { ThrottlerStorage } from '@nestjs/throttler';
import { InjectSettings } from '../../config/settings.module';
import { Settings } from '../../config/settings.schema';
import { AccountsError } from '../accounts.errors';

/**
 * Counts attempts per key (IP, account, client) in the throttler storage: Redis when REDIS_URL is set,
 * so limits hold across replicas; process memory otherwise.
 */
@Injectable()
export class RateLimiter {
  constructor(
    @Inject(ThrottlerStorage) private readonly storage: ThrottlerStorage,
    @InjectSettings() private readonly settings: Settings,
  ) {}

  /** Throws 429 `too_many_requests` when any key is over the limit. */
  async hit(keys: string[]): Promise<void> {
    const ttl = this.settings.LOGIN_RATE_WINDOW_SECONDS * 1000;
    const limit = this.settings.LOGIN_RATE_LIMIT;
    for (const key of keys) {
      const r = await this.storage.increment(`ca:rl:${key}`, ttl, limit, ttl, 'auth');
      if (r.isBlocked || r.totalHits > limit) {
        throw new AccountsError('too_many_requests', 'Too many attempts; try again later.', {
          retry_after_seconds: Math.max(1, Math.ceil(r.timeToBlockExpire || r.timeToExpire)),
        });
      }
    }
  }
}
