import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectSettings } from '../config/settings.module';
import { Settings } from '../config/settings.schema';
import type { JobState } from './job.entity';
import { JobsRepository } from './jobs.repository';
import { JobDispatcher } from './jobs.dispatcher';
import { errorText, retryBackoffMs } from './jobs.runner';
import { JobProcessorRegistry } from './processors/job-processor.registry';
import { TransactionRunner } from '../database/transaction';

const BATCH = 500;

export interface SweepResult {
  /** Waiting jobs dispatched again. */
  redispatched: number;
  /** Running jobs whose worker stopped heartbeating, by the state they were moved to. */
  recovered: Partial<Record<JobState, number>>;
}

/**
 * Repairs what the queue cannot: waiting jobs whose dispatch failed or was lost are dispatched
 * again, and running jobs whose worker stopped heartbeating go back to Retrying (or Failed when out
 * of attempts, Canceled when a cancel was asked). Every process runs it; the statements lock with
 * SKIP LOCKED, so sweepers never fight.
 */
@Injectable()
export class JobsSweeper implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Jobs');
  private timer?: NodeJS.Timeout;
  private sweeping?: Promise<SweepResult>;

  constructor(
    private readonly jobs: JobsRepository,
    private readonly dispatcher: JobDispatcher,
    private readonly registry: JobProcessorRegistry,
    @InjectSettings() private readonly settings: Settings,
    private readonly transactions: TransactionRunner,
  ) {}

  onApplicationBootstrap(): void {
    const every = this.settings.JOB_SWEEP_INTERVAL_MS;
    if (every <= 0) return;
    this.timer = setInterval(() => {
      if (!this.sweeping) void this.sweep().catch((e) => this.logger.warn(`Job sweep failed: ${errorText(e)}`));
    }, every);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.sweeping?.catch(() => undefined);
  }

  /** One sweep; tests call it directly. */
  sweep(): Promise<SweepResult> {
    this.sweeping ??= this.sweepOnce().finally(() => (this.sweeping = undefined));
    return this.sweeping;
  }

  private async sweepOnce(): Promise<SweepResult> {
    const recovered = await this.recoverAbandoned();
    const redispatched = await this.redispatchWaiting();
    return { redispatched, recovered };
  }

  /**
   * A run whose worker died counts as a failed attempt, and the retry waits out the same backoff as
   * after a thrown error: a job that kills its workers (running out of memory, say) is not run again
   * at once on the next one.
   */
  private async recoverAbandoned(): Promise<Partial<Record<JobState, number>>> {
    const rows = await this.transactions.run((tx) =>
      this.jobs.recoverAbandoned(tx, this.settings.JOB_HEARTBEAT_TIMEOUT_MS, BATCH, (attempts) =>
        retryBackoffMs(this.settings.JOB_RETRY_BACKOFF_MS, attempts),
      ),
    );
    const counts: Partial<Record<JobState, number>> = {};
    for (const row of rows) {
      counts[row.state] = (counts[row.state] ?? 0) + 1;
      this.logger.warn(`Job ${row.id} (${row.name}) lost its worker during attempt ${row.attempts} → ${row.state}`);
      if (row.state === 'Retrying') await this.dispatch(row, row.backoff_ms);
    }
    await this.registry.notifyAbandoned(
      rows
        .filter((row) => row.state === 'Failed' || row.state === 'Canceled')
        .map((row) => ({
          jobId: row.id,
          name: row.name,
          payload: row.payload,
          owner: { type: row.owner_type, id: row.owner_id },
          state: row.state as 'Failed' | 'Canceled',
          error: row.state === 'Failed' ? row.error : null,
        })),
    );
    return counts;
  }

  private async redispatchWaiting(): Promise<number> {
    const rows = await this.jobs.redispatchDue(this.settings.JOB_REDISPATCH_AFTER_MS, BATCH);
    let dispatched = 0;
    for (const row of rows) if (await this.dispatch(row)) dispatched++;
    return dispatched;
  }

  private async dispatch(row: { id: string; name: string; lease: number }, delayMs = 0): Promise<boolean> {
    const queue = this.registry.get(row.name)?.definition.queue;
    if (!queue) return false;
    return this.dispatcher.dispatch(queue, { jobId: row.id, lease: row.lease }, delayMs);
  }
}
