import { Inject, Injectable } from '@nestjs/common';
import { ThrottlerStorage } from '@nestjs/throttler';
import { setBounded } from '../../common/collections/bounded-map';
import { redisKey } from '../../common/redis/redis-key';
import { InjectSettings } from '../../config/settings.module';
import { Settings } from '../../config/settings.schema';
import { CommonError } from '../../common/errors/common.errors';

/** Blocked keys remembered per replica at most; expired ones are dropped first when it fills up. */
const MAX_BLOCKED_KEYS = 10_000;

const tooMany = (seconds: number) =>
  new CommonError('too_many_requests', 'Too many attempts; try again later.', {
    retry_after_seconds: Math.max(1, Math.ceil(seconds)),
  });

/**
 * Counts attempts per key (IP, account, client) in the throttler storage: Redis when REDIS_URL is set,
 * so limits hold across replicas; process memory otherwise. Windows are LOGIN_RATE_WINDOW_SECONDS long.
 */
@Injectable()
export class RateLimiter {
  /** Keys this replica has seen go over their failure limit, until when; checked before any work is done. */
  private readonly blocked = new Map<string, number>();

  constructor(
    @Inject(ThrottlerStorage) private readonly storage: ThrottlerStorage,
    @InjectSettings() private readonly settings: Settings,
  ) {}

  private get windowMs(): number {
    return this.settings.LOGIN_RATE_WINDOW_SECONDS * 1000;
  }

  /** Counts one attempt on each key; throws 429 `too_many_requests` when any is over `limit` (default LOGIN_RATE_LIMIT). */
  async hit(keys: string[], limit = this.settings.LOGIN_RATE_LIMIT): Promise<void> {
    for (const key of keys) {
      const r = await this.storage.increment(
        redisKey(this.settings, 'rl', key),
        this.windowMs,
        limit,
        this.windowMs,
        'auth',
      );
      if (r.isBlocked || r.totalHits > limit) {
        const seconds = r.timeToBlockExpire || r.timeToExpire;
        this.block(key, Date.now() + seconds * 1000);
        throw tooMany(seconds);
      }
    }
  }

  private block(key: string, until: number): void {
    if (this.blocked.size >= MAX_BLOCKED_KEYS) {
      const now = Date.now();
      for (const [k, t] of this.blocked) if (t <= now) this.blocked.delete(k);
    }
    // Still full of live blocks: the oldest goes (its counter in the storage still holds it).
    setBounded(this.blocked, key, until, MAX_BLOCKED_KEYS);
  }

  /** Throws 429 when a key went over its limit on this replica and is still blocked; costs no I/O. */
  assertNotBlocked(keys: string[]): void {
    const now = Date.now();
    for (const key of keys) {
      const until = this.blocked.get(key);
      if (until === undefined) continue;
      if (until > now) throw tooMany((until - now) / 1000);
      this.blocked.delete(key);
    }
  }
}
