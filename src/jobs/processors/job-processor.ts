import { applyDecorators, Injectable, SetMetadata } from '@nestjs/common';
import type { Readable } from 'node:stream';
import type { JobOwnerType } from '../job.entity';
import type { JobDefinition } from './job-definition';

export const JOB_PROCESSOR = 'campus-access:job-processor';

/** What a stored artifact looks like to its job. */
export interface ArtifactInfo {
  name: string;
  storage: 'inline' | 'fs' | 's3';
  contentType: string;
  size: number;
}

/** What a processor gets for one run of a job. */
export interface JobContext<P extends object> {
  readonly jobId: string;
  readonly name: string;
  readonly payload: P;
  /** This run's number, from 1. */
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly owner: { type: JobOwnerType; id: string };
  readonly organizationId: string | null;
  /** Aborted when a cancel is seen or the worker shuts down; pass it to long I/O. */
  readonly signal: AbortSignal;
  /**
   * Records progress on the job row and checks the cancel flag: call it between steps. It throws
   * (ending the run as Canceled) when a cancel was requested.
   */
  progress(completedSteps: number, totalSteps?: number): Promise<void>;
  /** Checks the cancel flag without recording progress. */
  throwIfCanceled(): Promise<void>;
  /**
   * Stores an artifact under a file-like name. The same name always overwrites (so a re-run never
   * duplicates); small text goes inline, anything else (and every stream) to the artifact storage.
   */
  writeArtifact(
    name: string,
    body: string | Buffer | Readable,
    options?: { contentType?: string },
  ): Promise<ArtifactInfo>;
}

/**
 * A failure no retry can fix (the owner lost the right to the work, the payload names something that
 * is gone): thrown by a processor, it ends the job Failed at once with this message as its error,
 * whatever attempts remain.
 */
/** Thrown into a processor to end the run as Canceled; a processor that cleans up on a cancel tests `instanceof`. */
export class JobCanceledSignal extends Error {
  constructor() {
    super('The job was canceled');
    this.name = 'JobCanceledSignal';
  }
}

export class UnrecoverableJobError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnrecoverableJobError';
  }
}

/**
 * A failed run that should be retried after `delayMs` rather than the default backoff (a webhook
 * delivery keeps its own schedule). Counts as an attempt like any thrown error.
 */
export class RetryLaterError extends Error {
  constructor(
    message: string,
    readonly delayMs: number,
  ) {
    super(message);
    this.name = 'RetryLaterError';
  }
}

/** A job that ended Failed or Canceled without its processor finishing the work. */
export interface AbandonedJob<P extends object> {
  readonly jobId: string;
  readonly name: string;
  readonly payload: P;
  readonly owner: { type: JobOwnerType; id: string };
  readonly state: 'Failed' | 'Canceled';
  /** Why, for Failed (out of attempts, unrecoverable, its worker stopped responding); null for Canceled. */
  readonly error: string | null;
}

/**
 * Runs one job type. A processor does one thing and is idempotent: a run may be repeated after a
 * crash, so it overwrites rather than appends.
 */
export interface JobProcessor<P extends object> {
  process(context: JobContext<P>): Promise<void>;
  /**
   * Called once the job has ended Failed or Canceled without a run seeing it through: out of
   * attempts, unrecoverable, taken back by the sweeper from a dead worker, or canceled while it
   * waited. For releasing what the payload holds (rows left in a transient state). It runs after the
   * row says so, in the process that moved it; should that process die first it is not called, so
   * the owner of such rows needs a recovery of its own too. Its errors are logged, never thrown.
   */
  abandoned?(job: AbandonedJob<P>): Promise<void>;
}

/** Marks a provider as the processor of a job definition; the registry finds it at start-up. */
export const ProcessesJob = (definition: JobDefinition<object>): ClassDecorator =>
  applyDecorators(Injectable(), SetMetadata(JOB_PROCESSOR, definition));
