import { Readable } from 'node:stream';
import type { ArtifactStorageKind } from './job-artifact.entity';
import type { JobOwnerType } from './job.entity';
import type { ClaimedJob, JobRunsRepository, RunStatus } from './job-runs.repository';
import {
  type ArtifactInfo,
  JobCanceledSignal,
  type JobContext,
  UnrecoverableJobError,
} from './processors/job-processor';
import { ARTIFACT_NAME } from './storage/artifact-storage';
import type { ArtifactStore } from './storage/artifact-store';

export type { ClaimedJob };

/** This run no longer owns the job (the sweeper gave it to another run); it must stop without writing. */
export class JobLostSignal extends Error {
  constructor() {
    super('This run no longer owns the job');
    this.name = 'JobLostSignal';
  }
}

/** The worker is shutting down; the job goes back to waiting. */
export class JobInterruptedSignal extends Error {
  constructor() {
    super('The worker is shutting down');
    this.name = 'JobInterruptedSignal';
  }
}

const TEXTUAL = /^(text\/|application\/(json|csv|xml|x-ndjson)\b)/i;

/**
 * One run of one job. Every write is fenced by the run's lease, so a run the job was taken from (by
 * the sweeper, or a shutdown handing it back) cannot touch the job any more.
 */
export class JobRunContext<P extends object> implements JobContext<P> {
  private readonly abort = new AbortController();
  private cancelSeen = false;
  private interrupted = false;
  private lost = false;
  private revoked?: UnrecoverableJobError;

  constructor(
    private readonly job: ClaimedJob,
    private readonly runs: JobRunsRepository,
    private readonly store: ArtifactStore,
    private readonly inlineMaxBytes: number,
  ) {}

  get jobId(): string {
    return this.job.id;
  }
  get name(): string {
    return this.job.name;
  }
  get payload(): P {
    return this.job.payload as P;
  }
  get attempt(): number {
    return this.job.attempts;
  }
  get maxAttempts(): number {
    return this.job.max_attempts;
  }
  get owner(): { type: JobOwnerType; id: string } {
    return { type: this.job.owner_type, id: this.job.owner_id };
  }
  get organizationId(): string | null {
    return this.job.organization_id;
  }
  get signal(): AbortSignal {
    return this.abort.signal;
  }

  /** Called by the heartbeat when the row shows a cancel request. */
  markCancelRequested(): void {
    if (this.cancelSeen) return;
    this.cancelSeen = true;
    this.abort.abort(new JobCanceledSignal());
  }

  markLost(): void {
    if (this.lost) return;
    this.lost = true;
    this.abort.abort(new JobLostSignal());
  }

  /**
   * Called by the heartbeat when the job's owner no longer holds the permission the job requires: the
   * processor stops at its next step, and the job ends Failed with `message`, whatever attempts remain.
   */
  markRevoked(message: string): void {
    if (this.revoked) return;
    this.revoked = new UnrecoverableJobError(message);
    this.abort.abort(this.revoked);
  }

  markInterrupted(): void {
    if (this.interrupted) return;
    this.interrupted = true;
    this.abort.abort(new JobInterruptedSignal());
  }

  private throwIfStopped(): void {
    if (this.lost) throw new JobLostSignal();
    if (this.interrupted) throw new JobInterruptedSignal();
    if (this.revoked) throw this.revoked;
  }

  async progress(completedSteps: number, totalSteps?: number): Promise<void> {
    this.throwIfStopped();
    this.check(await this.runs.progress(this.job, Math.max(0, Math.floor(completedSteps)), totalSteps ?? null));
  }

  async throwIfCanceled(): Promise<void> {
    this.throwIfStopped();
    this.check(await this.runs.cancelCheck(this.job));
  }

  private check(status: RunStatus): void {
    if (!status) {
      this.markLost();
      throw new JobLostSignal();
    }
    if (status.cancelRequestedAt) {
      this.markCancelRequested();
      throw new JobCanceledSignal();
    }
  }

  async writeArtifact(
    name: string,
    body: string | Buffer | Readable,
    options: { contentType?: string } = {},
  ): Promise<ArtifactInfo> {
    if (!ARTIFACT_NAME.test(name)) throw new Error(`Invalid artifact name "${name}" (letters, digits, ".", "_", "-")`);
    this.throwIfStopped();
    const contentType =
      options.contentType ?? (typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/octet-stream');
    let text: string | null = null;
    let stream: Readable;
    let size: number;
    if (typeof body === 'string' || Buffer.isBuffer(body)) {
      const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
      size = bytes.length;
      if (size <= this.inlineMaxBytes && TEXTUAL.test(contentType)) text = bytes.toString('utf8');
      stream = Readable.from([bytes]);
    } else {
      stream = body;
      size = 0;
    }
    let storage: ArtifactStorageKind | null = null;
    let key: string | null = null;
    if (text === null) {
      const writer = this.store.writer;
      // A key of this run's own: a run the job was taken from can write bytes, never over the current run's.
      key = writer.keyFor(this.job.id, this.job.lease, name);
      ({ size } = await writer.write(key, stream, contentType));
      storage = writer.kind;
    }
    const row = await this.runs.writeArtifact(this.job, { name, storage, key, contentType, size, text });
    if (!row.id) {
      // The job is no longer this run's: its bytes go, the current run's stay. Unless this run had
      // recorded an artifact at this very key before it lost the job: the row still points there.
      const recordedHere = row.old_storage === storage && row.old_key === key;
      if (storage && key && !recordedHere) await this.removeStored(storage, key);
      this.markLost();
      throw new JobLostSignal();
    }
    // An earlier run's (or this run's earlier) artifact of the same name was replaced.
    if (row.old_storage && row.old_key && (row.old_storage !== storage || row.old_key !== key)) {
      await this.removeStored(row.old_storage, row.old_key);
    }
    return { name, storage: storage ?? 'inline', contentType, size };
  }

  /** Best effort: an object left behind is removed with its job by the retention purge. */
  private async removeStored(storage: ArtifactStorageKind, key: string): Promise<void> {
    try {
      await this.store.storage(storage).delete(key);
    } catch {
      // The purge removes the job's whole folder or prefix later.
    }
  }
}
