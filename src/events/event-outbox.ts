import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, QueryRunner, TransactionCommitEvent } from 'typeorm';
import { queryRows } from '../database/query';
import type { NewEvent } from './event-types';

/** Events per INSERT: six parameters each, far under PostgreSQL's 65,535. */
const EVENTS_PER_INSERT = 1000;

/**
 * The one way events enter `outbox_events`: in the transaction of the change they tell of, so an
 * event exists exactly when its change committed. Once that transaction commits the relay is woken
 * (it also looks every OUTBOX_RELAY_INTERVAL_MS, for events of other processes).
 */
@Injectable()
export class EventOutbox {
  private readonly pending = new WeakSet<QueryRunner>();
  private readonly listeners: (() => void)[] = [];

  constructor(@InjectDataSource() dataSource: DataSource) {
    dataSource.subscribers.push({
      afterTransactionCommit: (event: TransactionCommitEvent) => {
        const runner = event.queryRunner;
        if (!this.pending.has(runner) || runner.isTransactionActive) return;
        this.pending.delete(runner);
        this.wake();
      },
    });
  }

  /** Writes the events in `tx` (the change's transaction). */
  async append(tx: EntityManager, events: readonly NewEvent[]): Promise<void> {
    if (events.length === 0) return;
    for (let i = 0; i < events.length; i += EVENTS_PER_INSERT) {
      const chunk = events.slice(i, i + EVENTS_PER_INSERT);
      const params: unknown[] = [];
      const rows = chunk.map((e) => {
        const at = params.length;
        params.push(e.type, e.organizationId, e.subjectType, e.subjectId, JSON.stringify(e.payload));
        return `($${at + 1}, $${at + 2}, $${at + 3}, $${at + 4}, $${at + 5})`;
      });
      await queryRows(
        tx,
        `INSERT INTO outbox_events (type, organization_id, subject_type, subject_id, payload) VALUES ${rows.join(', ')}`,
        params,
      );
    }
    const runner = tx.queryRunner;
    if (runner?.isTransactionActive) this.pending.add(runner);
    else this.wake();
  }

  /** Called after a commit that wrote events (the relay registers itself). */
  onCommitted(listener: () => void): void {
    this.listeners.push(listener);
  }

  private wake(): void {
    for (const l of this.listeners) l();
  }
}
