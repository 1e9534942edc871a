import { Injectable, OnModuleDestroy } from '@nestjs/common';
import Redis from 'ioredis';
import { InjectSettings } from '../../config/settings.module';
import { Settings } from '../../config/settings.schema';
import { redisKey } from './redis-key';

/**
 * The process's connection to Redis for the application's own short-lived keys (LTI login states
 * and nonces, LTI 1.1 nonces), opened on first use when REDIS_URL is set. A command fails after one
 * retry rather than wait for a reconnect, so a caller can refuse what it cannot check.
 */
@Injectable()
export class RedisConnection implements OnModuleDestroy {
  private redis?: Redis;

  constructor(@InjectSettings() private readonly settings: Settings) {}

  get enabled(): boolean {
    return Boolean(this.settings.REDIS_URL);
  }

  get client(): Redis {
    if (!this.settings.REDIS_URL) throw new Error('REDIS_URL is not set');
    this.redis ??= new Redis(this.settings.REDIS_URL, { maxRetriesPerRequest: 1, enableOfflineQueue: true });
    return this.redis;
  }

  /** A key under REDIS_KEY_PREFIX (see redisKey). */
  key(...parts: string[]): string {
    return redisKey(this.settings, ...parts);
  }

  async onModuleDestroy(): Promise<void> {
    await this.redis?.quit().catch(() => this.redis?.disconnect());
  }
}
