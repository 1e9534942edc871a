import { Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { PinoLogger } from 'nestjs-pino';
import { DataSource } from 'typeorm';
import { sha256Hex } from '../../common/crypto/secrets';
import { RedisConnection } from '../../common/redis/redis-connection';
import { queryRows } from '../../database/query';

const PURGE_INTERVAL_MS = 10 * 60_000;

/** The nonce store could not answer: the launch is refused rather than risk accepting a replay. */
export class NonceStoreUnavailable extends Error {}

/**
 * Each consumer's spent `oauth_nonce`s, kept until a request with the same timestamp would be refused
 * as too old anyway. One atomic write decides, across replicas: a nonce already there is a replay.
 * With REDIS_URL, `SET NX PX` on a key of its own (`<prefix>:lti11:nonce:<consumer>:<sha256>`);
 * otherwise the `lti_oauth_nonces` table (`INSERT … ON CONFLICT`), purged every ten minutes.
 */
@Injectable()
export class Lti11NoncesRepository implements OnApplicationBootstrap, OnModuleDestroy {
  private timer?: NodeJS.Timeout;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly logger: PinoLogger,
    private readonly redis: RedisConnection,
  ) {
    this.logger.setContext('LTI');
  }

  /** True when the nonce is new for the consumer (and is now spent); false for a replay. */
  async spend(consumerId: string, nonce: string, expiresAt: Date): Promise<boolean> {
    if (this.redis.enabled) return this.spendInRedis(consumerId, nonce, expiresAt);
    const rows = await queryRows(
      this.db,
      `INSERT INTO lti_oauth_nonces (consumer_id, nonce, expires_at) VALUES ($1, $2, $3)
       ON CONFLICT (consumer_id, nonce) DO UPDATE SET expires_at = EXCLUDED.expires_at
         WHERE lti_oauth_nonces.expires_at < now()
       RETURNING consumer_id`,
      [consumerId, nonce, expiresAt],
    );
    return rows.length > 0;
  }

  private async spendInRedis(consumerId: string, nonce: string, expiresAt: Date): Promise<boolean> {
    const ttl = Math.max(1000, expiresAt.getTime() - Date.now());
    try {
      const set = await this.redis.client.set(
        this.redis.key('lti11', 'nonce', consumerId, sha256Hex(nonce)),
        '1',
        'PX',
        ttl,
        'NX',
      );
      return set === 'OK';
    } catch (e) {
      this.logger.error({ err: e }, 'LTI 1.1 nonce store (Redis) unavailable');
      throw new NonceStoreUnavailable((e as Error).message);
    }
  }

  async purge(): Promise<number> {
    const rows = await queryRows(this.db, 'DELETE FROM lti_oauth_nonces WHERE expires_at < now() RETURNING 1', []);
    return rows.length;
  }

  onApplicationBootstrap(): void {
    if (this.redis.enabled) return; // Redis expires its keys itself
    this.timer = setInterval(() => {
      this.purge().then(
        (purged) => purged && this.logger.debug({ purged }, 'purged expired LTI 1.1 nonces'),
        (e: unknown) => this.logger.warn({ err: e }, 'could not purge LTI 1.1 nonces'),
      );
    }, PURGE_INTERVAL_MS).unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }
}
