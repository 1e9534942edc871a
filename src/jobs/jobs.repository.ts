import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, In } from 'typeorm';
import { Listed, pageOf } from '../common/pagination/pagination';
import { MicroBatcher } from '../common/batching/micro-batcher';
import { InjectSettings } from '../config/settings.module';
import { Settings } from '../config/settings.schema';
import { plainQuery, queryRows, statementName } from '../database/query';
import type { AppAbility } from '../permissions/ability';
import { scopeList, UserHasPermQuery } from '../permissions/user-has-perm';
import { JobArtifact } from './job-artifact.entity';
import { Job, JobOwnerType, JobState } from './job.entity';

/** A job row as enqueue writes it (Pending). */
export interface NewJobRow {
  id: string;
  name: string;
  ownerType: JobOwnerType;
  ownerId: string;
  organizationId: string | null;
  payload: string;
  totalSteps: number | null;
  maxAttempts: number;
}

export interface JobListFilter extends UserHasPermQuery {
  state?: JobState;
  name?: string;
}

/** A run the sweeper took back, as its row is now. */
export interface AbandonedRun {
  id: string;
  name: string;
  state: JobState;
  attempts: number;
  lease: number;
  backoff_ms: number;
  payload: Record<string, unknown>;
  owner_type: JobOwnerType;
  owner_id: string;
  error: string | null;
}

const UNFINISHED: JobState[] = ['Pending', 'In Progress', 'Retrying'];

const INSERT_COLUMNS = 'id, name, owner_type, owner_id, organization_id, payload, total_steps, max_attempts';

/**
 * The statements JobsService makes on `jobs` and `job_artifacts`: inserting jobs, the owner's reads
 * and the cancel. The runner, sweeper and retention keep the machinery's own statements (claims,
 * fenced outcomes, sweeps, purges) beside the code whose guarantees they carry.
 */
@Injectable()
export class JobsRepository {
  /** Jobs inserted outside a transaction at the same time go in one statement. */
  private readonly inserts = new MicroBatcher<NewJobRow, void>(async (rows) => {
    // Straight on the pool: these inserts are never part of a caller's transaction.
    await plainQuery(
      this.db,
      `INSERT INTO jobs (${INSERT_COLUMNS})
       SELECT * FROM unnest($1::uuid[], $2::varchar[], $3::varchar[], $4::uuid[], $5::uuid[], $6::jsonb[], $7::int[], $8::int[])`,
      [
        rows.map((r) => r.id),
        rows.map((r) => r.name),
        rows.map((r) => r.ownerType),
        rows.map((r) => r.ownerId),
        rows.map((r) => r.organizationId),
        rows.map((r) => r.payload),
        rows.map((r) => r.totalSteps),
        rows.map((r) => r.maxAttempts),
      ],
      statementName(this.settings, 'campus_access_jobs_insert'),
    );
    return rows.map(() => undefined);
  });

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @InjectSettings() private readonly settings: Settings,
  ) {}

  /** Inserts a Pending job: in `tx` when given, else batched with concurrent inserts and committed at once. */
  async insert(row: NewJobRow, tx?: EntityManager): Promise<void> {
    if (!tx) return this.inserts.add(row);
    await queryRows(tx, `INSERT INTO jobs (${INSERT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, [
      row.id,
      row.name,
      row.ownerType,
      row.ownerId,
      row.organizationId,
      row.payload,
      row.totalSteps,
      row.maxAttempts,
    ]);
  }

  findById(id: string): Promise<Job | null> {
    return this.db.getRepository(Job).findOneBy({ id });
  }

  /** One page of the jobs the ability may read, newest first; scoped in SQL. */
  page(ability: AppAbility, filter: JobListFilter): Promise<Listed<Job>> {
    const qb = this.db.getRepository(Job).createQueryBuilder('job');
    scopeList(qb, ability, filter.user_has_perm, 'Job', 'job');
    if (filter.state) qb.andWhere('job.state = :state', { state: filter.state });
    if (filter.name) qb.andWhere('job.name = :name', { name: filter.name });
    qb.orderBy('job.created_at', 'DESC').addOrderBy('job.id', 'DESC');
    return pageOf(qb, filter);
  }

  /** The artifacts of these jobs, in name order. */
  artifactsOf(jobIds: string[]): Promise<JobArtifact[]> {
    if (jobIds.length === 0) return Promise.resolve([]);
    return this.db.getRepository(JobArtifact).find({ where: { jobId: In(jobIds) }, order: { name: 'ASC' } });
  }

  findArtifact(jobId: string, name: string): Promise<JobArtifact | null> {
    return this.db.getRepository(JobArtifact).findOneBy({ jobId, name });
  }

  /** The owner's jobs still waiting or running (Pending, In Progress, Retrying), newest first, at most `limit`. */
  unfinishedOf(owner: { type: JobOwnerType; id: string }, limit: number): Promise<Job[]> {
    return this.db.getRepository(Job).find({
      where: { ownerType: owner.type, ownerId: owner.id, state: In(UNFINISHED) },
      order: { createdAt: 'DESC', id: 'DESC' },
      take: limit,
    });
  }

  /** Of these job ids, those whose job is not finished (Pending, In Progress or Retrying). */
  async unfinishedAmong(ids: string[], tx?: EntityManager): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows = await (tx ?? this.db.manager).find(Job, {
      select: ['id'],
      where: { id: In(ids), state: In(UNFINISHED) },
    });
    return rows.map((r) => r.id);
  }

  /** When the latest job of this name was created (whoever owns it), or null when there is none. */
  async latestCreatedAt(name: string): Promise<Date | null> {
    const latest = await this.db.getRepository(Job).findOne({ where: { name }, order: { createdAt: 'DESC' } });
    return latest?.createdAt ?? null;
  }

  /**
   * Pending/Retrying → Canceled at once; In Progress → cancel requested. One guarded statement, so a
   * racing worker cannot be overtaken. Null when the job is finished: then its state.
   */
  async requestCancel(id: string): Promise<{ state: JobState; refused: boolean }> {
    const rows = await queryRows<{ id: string; state: JobState }>(
      this.db,
      `UPDATE jobs SET
              state = (CASE WHEN state IN ('Pending', 'Retrying') THEN 'Canceled' ELSE state END)::job_state,
              finished_at = CASE WHEN state IN ('Pending', 'Retrying') THEN now() ELSE finished_at END,
              cancel_requested_at = COALESCE(cancel_requested_at, now()),
              updated_at = now()
        WHERE id = $1 AND state IN ('Pending', 'Retrying', 'In Progress')
        RETURNING id, state`,
      [id],
    );
    if (rows.length > 0) return { state: rows[0].state, refused: false };
    return { state: (await this.db.getRepository(Job).findOneByOrFail({ id })).state, refused: true };
  }

  /** Which of `values` a live job (Pending, Retrying, In Progress) of these names lists in its payload's array `key`. */
  async listedInLiveJobs(names: string[], key: string, values: string[], tx?: EntityManager): Promise<Set<string>> {
    if (values.length === 0) return new Set();
    const rows = await queryRows<{ value: string }>(
      tx ?? this.db,
      `SELECT DISTINCT v.value FROM jobs j, jsonb_array_elements_text(j.payload -> $2) AS v(value)
        WHERE j.state IN ('Pending', 'Retrying', 'In Progress') AND j.name = ANY($1::text[])
          AND jsonb_typeof(j.payload -> $2) = 'array' AND v.value = ANY($3::text[])`,
      [names, key, values],
    );
    return new Set(rows.map((r) => r.value));
  }

  /**
   * Takes back up to `limit` runs whose worker stopped heartbeating `timeoutMs` ago, in one
   * transaction: Retrying after the backoff `backoffMs(attempts)` gives, Failed when out of attempts,
   * Canceled when a cancel was asked. SKIP LOCKED, so sweepers never fight.
   */
  async recoverAbandoned(
    tx: EntityManager,
    timeoutMs: number,
    limit: number,
    backoffMs: (attempts: number) => number,
  ): Promise<AbandonedRun[]> {
    const stale = await queryRows<{ id: string; attempts: number }>(
      tx,
      `SELECT id, attempts FROM jobs
          WHERE state = 'In Progress' AND heartbeat_at < now() - $1 * interval '1 millisecond'
          ORDER BY heartbeat_at LIMIT ${Math.floor(limit)} FOR UPDATE SKIP LOCKED`,
      [timeoutMs],
    );
    if (stale.length === 0) return [];
    return queryRows<AbandonedRun>(
      tx,
      `UPDATE jobs j SET
                state = (CASE WHEN j.cancel_requested_at IS NOT NULL THEN 'Canceled'
                              WHEN j.attempts < j.max_attempts THEN 'Retrying' ELSE 'Failed' END)::job_state,
                error = CASE WHEN j.cancel_requested_at IS NOT NULL THEN j.error
                             ELSE 'The worker running attempt ' || j.attempts || ' stopped responding (no heartbeat since '
                                  || to_char(j.heartbeat_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || ')' END,
                finished_at = CASE WHEN j.cancel_requested_at IS NULL AND j.attempts < j.max_attempts THEN NULL ELSE now() END,
                available_at = now() + r.backoff_ms * interval '1 millisecond', heartbeat_at = NULL, updated_at = now()
           FROM unnest($1::uuid[], $2::int[]) AS r(id, backoff_ms)
          WHERE j.id = r.id
          RETURNING j.id, j.name, j.state, j.attempts, j.lease, r.backoff_ms, j.payload, j.owner_type, j.owner_id, j.error`,
      [stale.map((r) => r.id), stale.map((r) => backoffMs(r.attempts))],
    );
  }

  /** Up to `limit` jobs waiting longer than `afterMs` past their time, made available now (to dispatch again). */
  redispatchDue(afterMs: number, limit: number): Promise<{ id: string; name: string; lease: number }[]> {
    return queryRows<{ id: string; name: string; lease: number }>(
      this.db,
      `UPDATE jobs j SET available_at = now()
         FROM (SELECT id FROM jobs
                WHERE state IN ('Pending', 'Retrying') AND available_at < now() - $1 * interval '1 millisecond'
                ORDER BY available_at LIMIT ${Math.floor(limit)} FOR UPDATE SKIP LOCKED) due
        WHERE j.id = due.id
        RETURNING j.id, j.name, j.lease`,
      [afterMs],
    );
  }

  /**
   * Up to `limit` jobs not running that finished (or were created) before `cutoff`, in (created_at, id)
   * order after `after`; created_at as text so no microsecond is lost.
   */
  purgeCandidates(
    cutoff: Date,
    after: { createdAt: string; id: string } | undefined,
    limit: number,
  ): Promise<{ id: string; created_at: string; ran: boolean }[]> {
    return queryRows<{ id: string; created_at: string; ran: boolean }>(
      this.db,
      `SELECT id, created_at::text AS created_at, lease > 0 AS ran FROM jobs
        WHERE state <> 'In Progress' AND COALESCE(finished_at, created_at) < $1
          AND ($2::timestamptz IS NULL OR (created_at, id) > ($2::timestamptz, $3::uuid))
        ORDER BY created_at, id LIMIT ${Math.floor(limit)}`,
      [cutoff, after?.createdAt ?? null, after?.id ?? null],
    );
  }

  /** Deletes these jobs (their artifact rows with them, ON DELETE CASCADE) if still past `cutoff` and not running. */
  async purge(ids: string[], cutoff: Date): Promise<number> {
    const deleted = await queryRows<{ id: string }>(
      this.db,
      `DELETE FROM jobs WHERE id = ANY($1::uuid[]) AND state <> 'In Progress' AND COALESCE(finished_at, created_at) < $2 RETURNING id`,
      [ids, cutoff],
    );
    return deleted.length;
  }
}
