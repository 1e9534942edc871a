import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  DataSource,
  EntityManager,
  EntitySubscriberInterface,
  QueryRunner,
  TransactionCommitEvent,
  TransactionRollbackEvent,
} from 'typeorm';
import { Delivery, QUEUE_ADAPTER, QueueAdapter } from './queue/queue-adapter';

interface Deferred {
  depth: number;
  queue: string;
  delivery: Delivery;
}

/**
 * Hands job ids to the queue. A job enqueued inside a transaction is dispatched only once that
 * transaction commits (and forgotten if it rolls back), so a worker never looks for a row that is
 * not there yet. A failed dispatch is logged, never thrown: the row stays waiting and the sweeper
 * dispatches it again.
 */
@Injectable()
export class JobDispatcher implements OnModuleDestroy {
  private readonly logger = new Logger('Jobs');
  private readonly deferred = new WeakMap<QueryRunner, Deferred[]>();
  private readonly subscriber: EntitySubscriberInterface;
  private lastFailureLog = 0;

  constructor(
    @Inject(QUEUE_ADAPTER) private readonly adapter: QueueAdapter,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {
    this.subscriber = {
      afterTransactionCommit: (event: TransactionCommitEvent) => this.afterCommit(event.queryRunner),
      afterTransactionRollback: (event: TransactionRollbackEvent) => this.afterRollback(event.queryRunner),
    };
    this.dataSource.subscribers.push(this.subscriber);
  }

  /** Dispatches now; resolves false (after logging) when the queue could not take it. */
  async dispatch(queue: string, delivery: Delivery, delayMs = 0): Promise<boolean> {
    try {
      await this.adapter.dispatch(queue, delivery, delayMs);
      return true;
    } catch (e) {
      // One line per few seconds is enough while Redis is down.
      const now = Date.now();
      if (now - this.lastFailureLog > 5000) {
        this.lastFailureLog = now;
        this.logger.warn(
          `Job ${delivery.jobId} stays waiting: dispatch failed (${(e as Error).message}); the sweeper will dispatch it again`,
        );
      }
      return false;
    }
  }

  /** Dispatches after `tx` commits, or now when there is no open transaction. */
  async dispatchAfterCommit(tx: EntityManager | undefined, queue: string, delivery: Delivery): Promise<void> {
    const runner = tx?.queryRunner;
    if (!runner || !runner.isTransactionActive) {
      await this.dispatch(queue, delivery);
      return;
    }
    const list = this.deferred.get(runner) ?? [];
    list.push({ depth: this.depthOf(runner), queue, delivery });
    this.deferred.set(runner, list);
  }

  private depthOf(runner: QueryRunner): number {
    return (runner as QueryRunner & { transactionDepth?: number }).transactionDepth ?? 1;
  }

  private async afterCommit(runner: QueryRunner): Promise<void> {
    const list = this.deferred.get(runner);
    if (!list) return;
    if (runner.isTransactionActive) {
      // A released savepoint hands its work to the enclosing level; only the outermost commit makes it visible.
      const depth = this.depthOf(runner);
      for (const d of list) d.depth = Math.min(d.depth, depth);
      return;
    }
    this.deferred.delete(runner);
    await Promise.all(list.map((d) => this.dispatch(d.queue, d.delivery)));
  }

  private afterRollback(runner: QueryRunner): void {
    const list = this.deferred.get(runner);
    if (!list) return;
    if (!runner.isTransactionActive) {
      this.deferred.delete(runner);
      return;
    }
    // Rolled back to a savepoint: forget what was enqueued inside it.
    const depth = this.depthOf(runner);
    this.deferred.set(
      runner,
      list.filter((d) => d.depth <= depth),
    );
  }

  onModuleDestroy(): void {
    const i = this.dataSource.subscribers.indexOf(this.subscriber);
    if (i >= 0) this.dataSource.subscribers.splice(i, 1);
  }
}
