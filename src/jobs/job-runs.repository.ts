import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { plainQuery, queryRows } from '../database/query';
import type { ArtifactStorageKind } from './job-artifact.entity';
import type { JobOwnerType, JobState } from './job.entity';

/** A claimed job as the runner loaded it. */
export interface ClaimedJob {
  id: string;
  name: string;
  payload: Record<string, unknown>;
  attempts: number;
  /** This run's number; fences its writes. */
  lease: number;
  max_attempts: number;
  owner_type: JobOwnerType;
  owner_id: string;
  organization_id: string | null;
  total_steps: number | null;
}

/** A run's lease-fenced key: the job and the run's number. */
export interface RunKey {
  id: string;
  lease: number;
}

/** What `progress` and `cancelCheck` read: null when the run no longer owns the job. */
export type RunStatus = { cancelRequestedAt: Date | null } | null;

/** The row of an artifact written by a run: `id` null when the run no longer owns the job. */
export interface WrittenArtifact {
  id: string | null;
  old_storage: ArtifactStorageKind | null;
  old_key: string | null;
}

/**
 * The statements of a job's run on `jobs` and `job_artifacts`: the claim, the heartbeat, progress,
 * artifacts and the outcome. Every write after the claim is fenced by the run's lease
 * (`WHERE id = $1 AND lease = $2 AND state = 'In Progress'`), so a run the job was taken from writes
 * nothing.
 *
 * `state::text` in the claim keeps the planner on the primary key: written plainly, the state test
 * matches the predicate of the partial index ix_jobs_waiting, and with statistics that lag a burst
 * of new jobs the planner ANDs in a scan of every waiting job's entry to claim a handful. The claim
 * and the successes are not prepared statements, unlike the insert: a plan for `id = ANY($1)` made
 * once per connection is made against the table as it was then (while small, a sequential scan);
 * planned afresh, each statement uses the primary key.
 */
@Injectable()
export class JobRunsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * Claims the waiting jobs among `ids` (available within `earlyMs`): In Progress, one more attempt,
   * the next lease. Rows lock in id order and skip rows another process is claiming.
   */
  claim(ids: string[], earlyMs: number): Promise<ClaimedJob[]> {
    // Straight on the pool: one statement outside any transaction, run for every delivery.
    return plainQuery<ClaimedJob>(
      this.db,
      `UPDATE jobs j SET state = 'In Progress', attempts = j.attempts + 1, lease = j.lease + 1,
            started_at = COALESCE(j.started_at, now()), heartbeat_at = now(), updated_at = now()
       FROM (SELECT id FROM jobs WHERE id = ANY($1::uuid[]) AND state::text IN ('Pending', 'Retrying')
               AND available_at <= now() + $2 * interval '1 millisecond'
              ORDER BY id FOR UPDATE SKIP LOCKED) claimable
      WHERE j.id = claimable.id
      RETURNING j.id, j.name, j.payload, j.attempts, j.lease, j.max_attempts, j.owner_type, j.owner_id, j.organization_id, j.total_steps`,
      [[...new Set(ids)], earlyMs],
    );
  }

  /** These runs succeeded: one statement. */
  async succeed(runs: readonly RunKey[]): Promise<void> {
    await plainQuery(
      this.db,
      `WITH locked AS (SELECT id FROM jobs WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE)
     UPDATE jobs j SET state = 'Succeeded', error = NULL, completed_steps = COALESCE(j.total_steps, j.completed_steps),
            finished_at = now(), heartbeat_at = NULL, updated_at = now()
       FROM unnest($1::uuid[], $2::int[]) AS r(id, lease), locked
      WHERE j.id = r.id AND locked.id = r.id AND j.lease = r.lease AND j.state = 'In Progress'`,
      [runs.map((j) => j.id), runs.map((j) => j.lease)],
    );
  }

  async cancel(run: RunKey): Promise<void> {
    await queryRows(
      this.db,
      `UPDATE jobs SET state = 'Canceled', finished_at = now(), heartbeat_at = NULL, updated_at = now()
        WHERE id = $1 AND lease = $2 AND state = 'In Progress'`,
      [run.id, run.lease],
    );
  }

  /**
   * A failed run: Retrying after `backoffMs` while attempts remain and the error is not `final`, else
   * Failed; Canceled if a cancel came meanwhile. The new state, or undefined when the run lost the job.
   */
  async fail(run: RunKey, error: string, backoffMs: number, final: boolean): Promise<JobState | undefined> {
    const [row] = await queryRows<{ state: JobState }>(
      this.db,
      `UPDATE jobs SET
              state = (CASE WHEN cancel_requested_at IS NOT NULL THEN 'Canceled'
                            WHEN attempts < max_attempts AND NOT $5::boolean THEN 'Retrying' ELSE 'Failed' END)::job_state,
              error = $3,
              available_at = now() + $4 * interval '1 millisecond',
              finished_at = CASE WHEN cancel_requested_at IS NULL AND attempts < max_attempts AND NOT $5::boolean THEN NULL ELSE now() END,
              heartbeat_at = NULL, updated_at = now()
        WHERE id = $1 AND lease = $2 AND state = 'In Progress'
        RETURNING state`,
      [run.id, run.lease, error, backoffMs, final],
    );
    return row?.state;
  }

  /** Hands the job back as Pending with its attempt returned (a shutdown interrupted the run). */
  async release(run: RunKey): Promise<void> {
    await queryRows(
      this.db,
      `UPDATE jobs SET state = 'Pending', attempts = attempts - 1, heartbeat_at = NULL, available_at = now(), updated_at = now()
        WHERE id = $1 AND lease = $2 AND state = 'In Progress'`,
      [run.id, run.lease],
    );
  }

  /** Refreshes the heartbeat of these runs: those still owning their job, with their cancel requests. */
  heartbeat(runs: readonly RunKey[]): Promise<{ id: string; cancel_requested_at: Date | null }[]> {
    return queryRows<{ id: string; cancel_requested_at: Date | null }>(
      this.db,
      `WITH locked AS (SELECT id FROM jobs WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE)
       UPDATE jobs j SET heartbeat_at = now()
         FROM unnest($1::uuid[], $2::int[]) AS r(id, lease), locked
        WHERE j.id = r.id AND locked.id = r.id AND j.lease = r.lease AND j.state = 'In Progress'
        RETURNING j.id, j.cancel_requested_at`,
      [runs.map((r) => r.id), runs.map((r) => r.lease)],
    );
  }

  /** Records progress (and the heartbeat) of the run. */
  async progress(run: RunKey, completedSteps: number, totalSteps: number | null): Promise<RunStatus> {
    const rows = await queryRows<{ cancel_requested_at: Date | null }>(
      this.db,
      `UPDATE jobs SET completed_steps = $3, total_steps = COALESCE($4, total_steps), heartbeat_at = now(), updated_at = now()
        WHERE id = $1 AND lease = $2 AND state = 'In Progress'
        RETURNING cancel_requested_at`,
      [run.id, run.lease, completedSteps, totalSteps],
    );
    return rows.length ? { cancelRequestedAt: rows[0].cancel_requested_at } : null;
  }

  /** Whether a cancel was asked of the run's job. */
  async cancelCheck(run: RunKey): Promise<RunStatus> {
    const rows = await queryRows<{ cancel_requested_at: Date | null }>(
      this.db,
      `SELECT cancel_requested_at FROM jobs WHERE id = $1 AND lease = $2 AND state = 'In Progress'`,
      [run.id, run.lease],
    );
    return rows.length ? { cancelRequestedAt: rows[0].cancel_requested_at } : null;
  }

  /**
   * Records (or replaces) the run's artifact `name`, only while the run owns the job; with where the
   * artifact of that name was stored before.
   */
  async writeArtifact(
    run: RunKey,
    artifact: {
      name: string;
      storage: ArtifactStorageKind | null;
      key: string | null;
      contentType: string;
      size: number;
      text: string | null;
    },
  ): Promise<WrittenArtifact> {
    const [row] = await queryRows<WrittenArtifact>(
      this.db,
      `WITH previous AS (SELECT storage, key FROM job_artifacts WHERE job_id = $1 AND name = $2),
            written AS (
              INSERT INTO job_artifacts (job_id, name, storage, key, content_type, size, text)
              SELECT $1, $2, $3, $4, $5, $6, $7
               WHERE EXISTS (SELECT 1 FROM jobs WHERE id = $1 AND lease = $8 AND state = 'In Progress')
              ON CONFLICT (job_id, name) DO UPDATE
                SET storage = EXCLUDED.storage, key = EXCLUDED.key, content_type = EXCLUDED.content_type,
                    size = EXCLUDED.size, text = EXCLUDED.text, updated_at = now()
              RETURNING id)
       SELECT (SELECT id FROM written) AS id, previous.storage AS old_storage, previous.key AS old_key
         FROM (SELECT 1) AS one LEFT JOIN previous ON true`,
      [
        run.id,
        artifact.name,
        artifact.storage,
        artifact.key,
        artifact.contentType,
        artifact.size,
        artifact.text,
        run.lease,
      ],
    );
    return row;
  }
}
