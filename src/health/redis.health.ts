import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import Redis from 'ioredis';
import { InjectSettings } from '../config/settings.module';
import { Settings } from '../config/settings.schema';

/** Pings Redis when REDIS_URL is set; a dedicated connection so a stuck queue cannot hide an outage. */
@Injectable()
export class RedisHealthIndicator implements OnModuleDestroy {
  private client?: Redis;

  constructor(
    private readonly indicators: HealthIndicatorService,
    @InjectSettings() private readonly settings: Settings,
  ) {}

  get enabled(): boolean {
    return Boolean(this.settings.REDIS_URL);
  }

  async check(key: string, timeoutMs: number) {
    const indicator = this.indicators.check(key);
    this.client ??= new Redis(this.settings.REDIS_URL!, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      connectTimeout: timeoutMs,
      retryStrategy: () => null,
    });
    try {
      if (this.client.status !== 'ready') {
        this.client.disconnect();
        await this.client.connect();
      }
      const pong = await Promise.race([
        this.client.ping(),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), timeoutMs).unref()),
      ]);
      return pong === 'PONG' ? indicator.up() : indicator.down({ message: 'unexpected reply' });
    } catch (e) {
      return indicator.down({ message: (e as Error).message });
    }
  }

  onModuleDestroy(): void {
    this.client?.disconnect();
  }
}
