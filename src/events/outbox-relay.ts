import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { InjectSettings } from '../config/settings.module';
import { Settings } from '../config/settings.schema';
import { queryRows } from '../database/query';
import { EventOutbox } from './event-outbox';
import type { OutboxConsumer, StoredEvent } from './event-types';

/** Events handed to the consumers per transaction. */
const BATCH = 200;
/** One relay at a time over the whole deployment (a transaction-scoped advisory lock), so consumers see events in `seq` order. */
const RELAY_LOCK = 0x6f7574626f78; // "outbox"
/** How often relayed events older than OUTBOX_RETENTION_DAYS are purged. */
const PURGE_EVERY_MS = 3_600_000;

/**
 * Hands committed outbox events to the registered consumers (webhook subscriptions, participant
 * e-mails) in `seq` order, each batch in one transaction with the consumers' writes and the events'
 * `relayed_at`: a crash in between relays the batch again, never loses it. Runs after every local
 * commit that wrote events and every OUTBOX_RELAY_INTERVAL_MS in every process; a process that finds
 * another relaying leaves the work to it.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Outbox');
  private readonly consumers = new Map<string, OutboxConsumer>();
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private stopped = false;
  private lastPurge = 0;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    outbox: EventOutbox,
    @InjectSettings() private readonly settings: Settings,
  ) {
    outbox.onCommitted(() => this.nudge());
  }

  /** A module that reacts to events registers here (in its constructor or onModuleInit). */
  register(name: string, consumer: OutboxConsumer): void {
    this.consumers.set(name, consumer);
  }

  onApplicationBootstrap(): void {
    const every = this.settings.OUTBOX_RELAY_INTERVAL_MS;
    if (every > 0) {
      this.timer = setInterval(() => this.nudge(), every);
      this.timer.unref();
    }
    this.nudge();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** Relays now (or right after the pass under way). */
  nudge(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain()
      .catch((e: unknown) => this.logger.warn(`Relaying events failed (retried later): ${(e as Error).message}`))
      .finally(() => {
        this.running = undefined;
        if (this.again && !this.stopped) {
          this.again = false;
          this.nudge();
        }
      });
  }

  /** Relays until no committed event is left (for tests and shutdown); resolves once done. */
  async flush(): Promise<void> {
    await this.running;
    await this.drain();
  }

  private async drain(): Promise<void> {
    while (!this.stopped && (await this.relayBatch()) === BATCH);
    if (Date.now() - this.lastPurge > PURGE_EVERY_MS) {
      this.lastPurge = Date.now();
      await queryRows(
        this.db,
        `DELETE FROM outbox_events WHERE relayed_at IS NOT NULL AND relayed_at < now() - $1 * interval '1 day'`,
        [this.settings.OUTBOX_RETENTION_DAYS],
      );
    }
  }

  /** One batch; the number of events relayed (0 when another process holds the relay). */
  private relayBatch(): Promise<number> {
    return this.db.transaction(async (tx: EntityManager) => {
      const [{ locked }] = await queryRows<{ locked: boolean }>(tx, `SELECT pg_try_advisory_xact_lock($1) AS locked`, [
        RELAY_LOCK,
      ]);
      if (!locked) return 0;
      const rows = await queryRows<{
        id: string;
        seq: string;
        type: string;
        created_at: Date;
        organization_id: string | null;
        subject_type: string;
        subject_id: string;
        payload: Record<string, unknown>;
      }>(
        tx,
        `SELECT id, seq, type, created_at, organization_id, subject_type, subject_id, payload
           FROM outbox_events WHERE relayed_at IS NULL ORDER BY seq LIMIT $1`,
        [BATCH],
      );
      if (rows.length === 0) return 0;
      const events: StoredEvent[] = rows.map((r) => ({
        id: r.id,
        seq: String(r.seq),
        type: r.type,
        occurredAt: r.created_at,
        organizationId: r.organization_id,
        subjectType: r.subject_type,
        subjectId: r.subject_id,
        payload: r.payload,
      }));
      for (const consumer of this.consumers.values()) await consumer(events, tx);
      await queryRows(tx, `UPDATE outbox_events SET relayed_at = now() WHERE id = ANY($1::uuid[])`, [
        events.map((e) => e.id),
      ]);
      return rows.length;
    });
  }
}
