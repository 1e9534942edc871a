import { Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { PinoLogger } from 'nestjs-pino';
import { DataSource } from 'typeorm';
import { queryRows } from '../../database/query';

const PURGE_INTERVAL_MS = 10 * 60_000;

/**
 * The `lti_oauth_nonces` table: each consumer's nonces, kept until a request with the same timestamp
 * would be refused as too old anyway. One insert decides, across replicas: a nonce already there is a replay.
 */
@Injectable()
export class Lti11NoncesRepository implements OnApplicationBootstrap, OnModuleDestroy {
  private timer?: NodeJS.Timeout;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('LTI');
  }

  /** True when the nonce is new for the consumer (and is now spent); false for a replay. */
  async spend(consumerId: string, nonce: string, expiresAt: Date): Promise<boolean> {
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

  async purge(): Promise<number> {
    const rows = await queryRows(this.db, 'DELETE FROM lti_oauth_nonces WHERE expires_at < now() RETURNING 1', []);
    return rows.length;
  }

  onApplicationBootstrap(): void {
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
