import { Injectable, Logger } from '@nestjs/common';
import { InjectSettings } from '../config/settings.module';
import { Settings } from '../config/settings.schema';
import { JobInterruptedSignal, JobLostSignal, JobRunContext } from './job-run-context';
import { ClaimedJob, JobRunsRepository } from './job-runs.repository';
import type { JobState } from './job.entity';
import { MicroBatcher } from '../common/batching/micro-batcher';
import { JobDispatcher } from './jobs.dispatcher';
import { JobOwnerRights } from './job-owner-rights';
import type { JobPermission } from './processors/job-definition';
import { JobCanceledSignal, RetryLaterError, UnrecoverableJobError } from './processors/job-processor';
import { JobProcessorRegistry } from './processors/job-processor.registry';
import { ArtifactStore } from './storage/artifact-store';

const MAX_BACKOFF_MS = 3_600_000;
const MAX_ERROR_LENGTH = 4000;
/** Claim (and outcome) statements running at once; deliveries arriving meanwhile join the next one. */
const FLUSHES_IN_FLIGHT = 1;
/**
 * How early a delivery may come for a job waiting out its retry delay (clocks of the queue's host and
 * the database's differ a little). One earlier still is dropped; the sweeper dispatches the job again.
 */
const EARLY_DELIVERY_TOLERANCE_MS = 1000;

interface Running {
  job: ClaimedJob;
  context: JobRunContext<object>;
  done: Promise<void>;
}

/** Why a job whose owner lost the permission it requires is failed. */
function ownerLostPermission(permission: JobPermission): string {
  return `The job's owner may no longer ${permission.description}.`;
}

export function errorText(e: unknown): string {
  const text = e instanceof Error ? e.message || e.name : String(e);
  return (text || 'The job failed without a message').slice(0, MAX_ERROR_LENGTH);
}

/** Delay before the retry that follows run `attempt` (1-based): base, 2×base, 4×base… up to an hour. */
export function retryBackoffMs(baseMs: number, attempt: number): number {
  return Math.min(MAX_BACKOFF_MS, baseMs * 2 ** Math.max(0, attempt - 1));
}

/**
 * Runs deliveries: claims the row atomically (a job delivered twice runs once), runs its processor,
 * keeps its heartbeat, and records the outcome on the row.
 */
@Injectable()
export class JobRunner {
  private readonly logger = new Logger('Jobs');
  private readonly running = new Map<string, Running>();
  private heartbeat?: NodeJS.Timeout;
  private stopping = false;

  /**
   * Claims of deliveries arriving together share one statement (JobRunsRepository.claim): a job
   * delivered twice runs once. A claim takes the job's next lease, which fences every write of the
   * run, and counts an attempt. A job still waiting out its retry delay is not claimed: a stale or
   * early delivery cannot skip the backoff.
   */
  private readonly claims = new MicroBatcher<string, ClaimedJob | undefined>(
    async (ids) => {
      const byId = new Map((await this.runs.claim(ids, EARLY_DELIVERY_TOLERANCE_MS)).map((r) => [r.id, r]));
      // A job delivered twice in one batch goes to the first delivery only.
      return ids.map((id) => {
        const row = byId.get(id);
        byId.delete(id);
        return row;
      });
    },
    200,
    FLUSHES_IN_FLIGHT,
  );

  /** Successful runs finishing together share one statement (and one commit). */
  private readonly successes = new MicroBatcher<ClaimedJob, void>(
    async (jobs) => {
      await this.runs.succeed(jobs);
      return jobs.map(() => undefined);
    },
    200,
    FLUSHES_IN_FLIGHT,
  );

  constructor(
    private readonly runs: JobRunsRepository,
    private readonly registry: JobProcessorRegistry,
    private readonly store: ArtifactStore,
    private readonly dispatcher: JobDispatcher,
    private readonly ownerRights: JobOwnerRights,
    @InjectSettings() private readonly settings: Settings,
  ) {}

  /** Runs a delivered job if it is still waiting; never throws. */
  async run(jobId: string): Promise<void> {
    if (this.stopping) return;
    let job: ClaimedJob | undefined;
    try {
      job = await this.claims.add(jobId);
    } catch (e) {
      this.logger.warn(`Could not claim job ${jobId}: ${errorText(e)}`);
      return;
    }
    // Someone else ran it, or it was canceled: the row says so.
    if (!job) return;
    const context = new JobRunContext<object>(job, this.runs, this.store, this.settings.JOB_ARTIFACT_INLINE_MAX_BYTES);
    let processed!: () => void;
    const released = new Promise<void>((resolve) => (processed = resolve));
    const done = this.execute(job, context, processed).finally(() => {
      this.running.delete(job.id);
      if (this.running.size === 0) this.stopHeartbeat();
    });
    this.running.set(job.id, { job, context, done });
    this.startHeartbeat();
    // The delivery is done once the processor is: recording the outcome needs no queue slot. Until
    // it is recorded the run stays in `running` (heartbeat, shutdown), and should this process die
    // first, the row is still In Progress and the sweeper takes it back.
    await released;
  }

  private async execute(job: ClaimedJob, context: JobRunContext<object>, processed: () => void): Promise<void> {
    try {
      const registered = this.registry.get(job.name);
      if (!registered) throw new Error(`No processor is registered for job ${job.name}`);
      const permission = registered.definition.requires?.(job.payload);
      if (permission && !(await this.ownerRights.hold(context.owner, permission))) {
        throw new UnrecoverableJobError(ownerLostPermission(permission));
      }
      await registered.processor.process(context);
      processed();
      await this.finish(job, 'Succeeded');
    } catch (e) {
      processed();
      try {
        if (e instanceof JobLostSignal) {
          this.logger.warn(`Job ${job.id} attempt ${job.attempts} stopped: another run owns the job now`);
        } else if (e instanceof JobCanceledSignal) {
          await this.finish(job, 'Canceled');
        } else if (e instanceof JobInterruptedSignal) {
          await this.release(job);
        } else {
          await this.fail(job, e);
        }
      } catch (recordError) {
        // The row keeps its heartbeat-less In Progress state; the sweeper takes it back.
        this.logger.error(`Could not record the outcome of job ${job.id}: ${errorText(recordError)}`);
      }
    }
  }

  private async finish(job: ClaimedJob, state: Extract<JobState, 'Succeeded' | 'Canceled'>): Promise<void> {
    if (state === 'Succeeded') return this.successes.add(job);
    await this.runs.cancel(job);
  }

  /**
   * A failed run: Retrying with backoff while attempts remain (and the error is not unrecoverable),
   * else Failed; Canceled if a cancel came meanwhile.
   */
  private async fail(job: ClaimedJob, e: unknown): Promise<void> {
    const message = errorText(e);
    const final = e instanceof UnrecoverableJobError;
    const backoff =
      e instanceof RetryLaterError
        ? Math.max(0, e.delayMs)
        : retryBackoffMs(this.settings.JOB_RETRY_BACKOFF_MS, job.attempts);
    const state = await this.runs.fail(job, message, backoff, final);
    if (!state) return;
    this.logger.warn(
      `Job ${job.id} (${job.name}) attempt ${job.attempts}/${job.max_attempts} failed: ${message} → ${state}`,
    );
    if (state === 'Retrying') {
      const queue = this.registry.get(job.name)?.definition.queue;
      if (queue) await this.dispatcher.dispatch(queue, { jobId: job.id, lease: job.lease }, backoff);
    } else {
      await this.registry.notifyAbandoned([
        {
          jobId: job.id,
          name: job.name,
          payload: job.payload,
          owner: { type: job.owner_type, id: job.owner_id },
          state: state as 'Failed' | 'Canceled',
          error: state === 'Failed' ? message : null,
        },
      ]);
    }
  }

  /**
   * A run interrupted by a shutdown hands the job back as Pending with its attempt returned: a rolling
   * restart of workers costs a job none of its retries. The sweeper dispatches it again.
   */
  private async release(job: ClaimedJob): Promise<void> {
    await this.runs.release(job);
  }

  private startHeartbeat(): void {
    if (this.heartbeat) return;
    this.heartbeat = setInterval(() => void this.beat(), this.settings.JOB_HEARTBEAT_INTERVAL_MS);
    this.heartbeat.unref();
  }

  private stopHeartbeat(): void {
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  /**
   * One statement for every running job: refresh heartbeats, learn of cancels and of runs given away.
   * Then the owners of running jobs whose definition requires a permission are checked again: a run
   * whose owner lost it (left the group, was deactivated) stops at its next step and ends Failed.
   */
  async beat(): Promise<void> {
    const runs = [...this.running.values()];
    if (runs.length === 0) return;
    try {
      const rows = await this.runs.heartbeat(runs.map((r) => r.job));
      const alive = new Map(rows.map((r) => [r.id, r]));
      for (const run of runs) {
        const row = alive.get(run.job.id);
        if (!row) {
          if (this.running.get(run.job.id) === run) run.context.markLost();
        } else if (row.cancel_requested_at) {
          run.context.markCancelRequested();
        }
      }
      await this.checkOwners(runs.filter((run) => alive.has(run.job.id)));
    } catch (e) {
      this.logger.warn(`Job heartbeat failed: ${errorText(e)}`);
    }
  }

  /** One check per owner and permission, however many of their jobs run here. */
  private async checkOwners(runs: Running[]): Promise<void> {
    const checks = new Map<string, Promise<boolean>>();
    await Promise.all(
      runs.map(async ({ job, context }) => {
        const permission = this.registry.requiredPermission(job.name, job.payload);
        if (!permission) return;
        const key = JSON.stringify([
          job.owner_type,
          job.owner_id,
          permission.action,
          permission.subject,
          permission.object,
        ]);
        let held = checks.get(key);
        if (!held) checks.set(key, (held = this.ownerRights.hold(context.owner, permission)));
        if (!(await held)) context.markRevoked(ownerLostPermission(permission));
      }),
    );
  }

  get runningCount(): number {
    return this.running.size;
  }

  /**
   * Stops taking jobs and lets running ones finish for up to `graceMs`; then interrupts them (they
   * stop at their next step) and hands back to Pending whatever still runs.
   */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    const settle = (ms: number) =>
      Promise.race([
        Promise.allSettled([...this.running.values()].map((r) => r.done)),
        new Promise((resolve) => setTimeout(resolve, ms).unref()),
      ]);
    if (this.running.size > 0) await settle(graceMs);
    if (this.running.size > 0) {
      for (const run of this.running.values()) run.context.markInterrupted();
      await settle(Math.min(graceMs, 2000) || 100);
    }
    for (const run of [...this.running.values()]) {
      run.context.markLost();
      await this.release(run.job).catch((e) =>
        this.logger.warn(`Could not hand back job ${run.job.id}: ${errorText(e)}`),
      );
    }
    this.stopHeartbeat();
  }
}
