import type { Readable } from 'node:stream';
import type { ArtifactStorageKind } from '../job-artifact.entity';

/**
 * Where artifact bytes live. Keys are `jobs/<job id>/<lease>/<artifact name>` (plus a configured
 * prefix): each run of a job writes under its own lease, so a stale run never overwrites a newer one.
 */
export interface ArtifactStorage {
  readonly kind: ArtifactStorageKind;
  /** The storage key of an artifact written by run `lease` of a job. */
  keyFor(jobId: string, lease: number, name: string): string;
  /** Streams `body` to `key`, replacing what was there; resolves with the bytes written. */
  write(key: string, body: Readable, contentType: string): Promise<{ size: number }>;
  /** A stream of the stored bytes; rejects with ArtifactMissingError when there is nothing at `key`. */
  read(key: string): Promise<Readable>;
  /** Removes one object; nothing at `key` is not an error. */
  delete(key: string): Promise<void>;
  /** Removes every object of a job, with whatever an interrupted write left (temporary files, unfinished uploads). */
  deleteJob(jobId: string): Promise<void>;
}

export class ArtifactMissingError extends Error {
  constructor(key: string) {
    super(`No stored artifact at ${key}`);
    this.name = 'ArtifactMissingError';
  }
}

/** Artifact names are file-name-like: they become storage keys and download file names. */
export const ARTIFACT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;
