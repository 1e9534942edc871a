import { Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { RedisConnection } from '../../common/redis/redis-connection';
import { LtiLoginsRepository } from './lti-logins.repository';

const PURGE_INTERVAL_MS = 10 * 60_000;

/** Deletes logins past their time from the table every ten minutes in each process (none with Redis) (a DELETE on an index; replicas running it together only repeat it). */
@Injectable()
export class LtiLoginsPurge implements OnApplicationBootstrap, OnModuleDestroy {
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly logins: LtiLoginsRepository,
    private readonly redis: RedisConnection,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('LTI');
  }

  onApplicationBootstrap(): void {
    if (this.redis.enabled) return; // Redis expires its keys itself
    this.timer = setInterval(() => void this.purge(), PURGE_INTERVAL_MS).unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  private async purge(): Promise<void> {
    try {
      const purged = await this.logins.purge();
      if (purged) this.logger.debug({ purged }, 'purged spent and expired LTI logins');
    } catch (e) {
      this.logger.warn({ err: e }, 'could not purge LTI logins');
    }
  }
}
