import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { DataSource, EntityManager, In } from 'typeorm';
import type { Principal } from '../common/auth/principal';
import { Page, PageQuery, pageWindow } from '../common/pagination/pagination';
import { publicUrl } from '../config/load-settings';
import { InjectSettings } from '../config/settings.module';
import { Settings } from '../config/settings.schema';
import { plainQuery, statementName } from '../database/plain-query';
import { JobArtifactDto, JobDto } from './dto/job.dto';
import type { AppAbility } from '../permissions/ability';
import { AbilityFactory } from '../permissions/ability.factory';
import { JobArtifact } from './job-artifact.entity';
import { allowsJob, JobOwnerRights } from './job-owner-rights';
import { Job, JobOwnerType, JobState } from './job.entity';
import { MicroBatcher } from './jobs.batcher';
import { JobDispatcher } from './jobs.dispatcher';
import { JobsError } from './jobs.errors';
import { queryRows } from './jobs.sql';
import type { JobDefinition } from './processors/job-definition';
import { JobProcessorRegistry } from './processors/job-processor.registry';
import { ArtifactMissingError } from './storage/artifact-storage';
import { ArtifactStore } from './storage/artifact-store';

/** The artifact whose inline text is shown as the job's `text`. */
export const RESULT_ARTIFACT = 'result';

export interface JobOwner {
  type: JobOwnerType;
  id: string;
}

export interface EnqueueOptions {
  /** Who may follow the job: the principal of the request (or a user/service account id). */
  owner: Principal | JobOwner;
  organizationId?: string | null;
  totalSteps?: number;
  /** Default JOB_MAX_ATTEMPTS. */
  maxAttempts?: number;
}

interface NewJobRow {
  id: string;
  name: string;
  ownerType: JobOwnerType;
  ownerId: string;
  organizationId: string | null;
  payload: string;
  totalSteps: number | null;
  maxAttempts: number;
}

export interface JobListFilter extends PageQuery {
  state?: JobState;
  name?: string;
}

export interface ArtifactDownload {
  name: string;
  contentType: string;
  size: number;
  /** Either inline text or a stream from the storage. */
  text?: string;
  stream?: Readable;
}

/** Jobs as their owners see them, and the one way to start a job. */
@Injectable()
export class JobsService {
  private readonly apiBase: string;

  /** Jobs enqueued outside a transaction at the same time are inserted by one statement. */
  private readonly inserts = new MicroBatcher<NewJobRow, void>(async (rows) => {
    // Straight on the pool: these inserts are never part of a caller's transaction.
    await plainQuery(
      this.db,
      `INSERT INTO jobs (id, name, owner_type, owner_id, organization_id, payload, total_steps, max_attempts)
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
    private readonly registry: JobProcessorRegistry,
    private readonly dispatcher: JobDispatcher,
    private readonly store: ArtifactStore,
    private readonly abilities: AbilityFactory,
    @InjectSettings() private readonly settings: Settings,
    private readonly ownerRights: JobOwnerRights,
  ) {
    this.apiBase = `${publicUrl(settings)}/api/v1`;
  }

  /**
   * Records a job (Pending) and dispatches it. Inside a transaction (`tx`), the row is part of the
   * caller's work and the dispatch waits for the commit; a rollback leaves no job behind. A dispatch
   * that fails (Redis down) does not fail the caller: the sweeper dispatches the job later.
   */
  async enqueue<P extends object>(
    job: JobDefinition<P>,
    payload: P,
    options: EnqueueOptions,
    tx?: EntityManager,
  ): Promise<{ id: string }>;
  async enqueue(job: string, payload: object, options: EnqueueOptions, tx?: EntityManager): Promise<{ id: string }>;
  async enqueue(
    job: string | JobDefinition<object>,
    payload: object,
    options: EnqueueOptions,
    tx?: EntityManager,
  ): Promise<{ id: string }> {
    const name = typeof job === 'string' ? job : job.name;
    const registered = this.registry.get(name);
    if (!registered) throw new JobsError('unknown_job', `No processor is registered for job ${name}`, { name });
    const row: NewJobRow = {
      id: randomUUID(),
      name,
      ownerType: options.owner.type,
      ownerId: options.owner.id,
      organizationId: options.organizationId ?? null,
      payload: JSON.stringify(payload ?? {}),
      totalSteps: options.totalSteps ?? null,
      maxAttempts: Math.max(1, options.maxAttempts ?? this.settings.JOB_MAX_ATTEMPTS),
    };
    if (tx) {
      await tx.query(
        `INSERT INTO jobs (id, name, owner_type, owner_id, organization_id, payload, total_steps, max_attempts)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [
          row.id,
          row.name,
          row.ownerType,
          row.ownerId,
          row.organizationId,
          row.payload,
          row.totalSteps,
          row.maxAttempts,
        ],
      );
      await this.dispatcher.dispatchAfterCommit(tx, registered.definition.queue, { jobId: row.id, lease: 0 });
    } else {
      await this.inserts.add(row);
      // The row is committed and is the truth: the caller need not wait for the queue. A dispatch
      // never throws (a failed one is logged and left to the sweeper).
      void this.dispatcher.dispatch(registered.definition.queue, { jobId: row.id, lease: 0 });
    }
    return { id: row.id };
  }

  /** The caller's jobs (staff and support: all), newest first; scoped in SQL. */
  async list(who: Principal, filter: JobListFilter): Promise<Omit<Page<JobDto>, 'next' | 'previous'>> {
    const { offset, pageSize } = pageWindow(filter);
    const qb = this.db.getRepository(Job).createQueryBuilder('job');
    if (!this.seesAll(who)) {
      qb.andWhere('job.owner_type = :ownerType AND job.owner_id = :ownerId', { ownerType: who.type, ownerId: who.id });
    }
    if (filter.state) qb.andWhere('job.state = :state', { state: filter.state });
    if (filter.name) qb.andWhere('job.name = :name', { name: filter.name });
    qb.orderBy('job.created_at', 'DESC').addOrderBy('job.id', 'DESC').offset(offset).limit(pageSize);
    const [jobs, count] = await qb.getManyAndCount();
    const artifacts = jobs.length
      ? await this.db
          .getRepository(JobArtifact)
          .find({ where: { jobId: In(jobs.map((j) => j.id)) }, order: { name: 'ASC' } })
      : [];
    return {
      count,
      results: jobs.map((j) =>
        this.toDto(
          j,
          artifacts.filter((a) => a.jobId === j.id),
        ),
      ),
    };
  }

  async get(who: Principal, id: string): Promise<JobDto> {
    const job = await this.findVisible(who, id);
    const artifacts = await this.db.getRepository(JobArtifact).find({ where: { jobId: id }, order: { name: 'ASC' } });
    return this.toDto(job, artifacts);
  }

  /**
   * Pending/Retrying → Canceled at once; In Progress → cancel requested (the run ends Canceled at its
   * next step); a finished job → 409. One guarded statement, so a racing worker cannot be overtaken.
   */
  async cancel(who: Principal, id: string): Promise<JobDto> {
    const job = await this.findVisible(who, id);
    if (!this.mayChange(who, job))
      throw new JobsError('forbidden', 'Only the owner of a job or staff may cancel it.', { job_id: id });
    const rows = await queryRows<{ id: string }>(
      this.db,
      `UPDATE jobs SET
              state = (CASE WHEN state IN ('Pending', 'Retrying') THEN 'Canceled' ELSE state END)::job_state,
              finished_at = CASE WHEN state IN ('Pending', 'Retrying') THEN now() ELSE finished_at END,
              cancel_requested_at = COALESCE(cancel_requested_at, now()),
              updated_at = now()
        WHERE id = $1 AND state IN ('Pending', 'Retrying', 'In Progress')
        RETURNING id`,
      [id],
    );
    if (rows.length === 0) {
      const current = await this.db.getRepository(Job).findOneByOrFail({ id });
      throw new JobsError('invalid_state', `The job is already ${current.state}.`, {
        job_id: id,
        state: current.state,
      });
    }
    return this.get(who, id);
  }

  /**
   * An artifact's bytes: inline text, or a stream from the storage (never read whole). An owner who no
   * longer holds the permission the job's definition requires (say, to export the users it lists)
   * may still follow the job but not read its artifacts: 403. `ability` is the caller's when it is at
   * hand (a request's); without it, it is built.
   */
  async openArtifact(who: Principal, id: string, name: string, ability?: AppAbility): Promise<ArtifactDownload> {
    const job = await this.findVisible(who, id);
    const permission = this.registry.requiredPermission(job.name, job.payload);
    if (permission && !this.seesAll(who) && !allowsJob(ability ?? (await this.abilities.for(who)), permission)) {
      throw new JobsError(
        'forbidden',
        `You may no longer ${permission.description}, so this job's artifacts are closed to you.`,
        { job_id: id },
      );
    }
    return this.openStoredArtifact(id, name);
  }

  /** Whether the caller sees the job and may read its artifacts (the checks of openArtifact, without opening one). */
  async mayReadArtifacts(who: Principal, id: string, ability?: AppAbility): Promise<boolean> {
    const job = await this.findVisible(who, id);
    const permission = this.registry.requiredPermission(job.name, job.payload);
    return !permission || this.seesAll(who) || allowsJob(ability ?? (await this.abilities.for(who)), permission);
  }

  /**
   * An artifact for whoever holds a link the application signed for it (no principal): allowed only
   * while the job's owner still holds the permission the job requires. 404 for an unknown job.
   */
  async openArtifactForOwner(id: string, name: string): Promise<ArtifactDownload> {
    const job = await this.db.getRepository(Job).findOneBy({ id });
    if (!job) throw new JobsError('not_found', 'No such job.', { job_id: id });
    const permission = this.registry.requiredPermission(job.name, job.payload);
    if (permission && !(await this.ownerRights.hold({ type: job.ownerType, id: job.ownerId }, permission))) {
      throw new JobsError('forbidden', `The job's owner may no longer ${permission.description}.`, { job_id: id });
    }
    return this.openStoredArtifact(id, name);
  }

  /** The caller's jobs still waiting or running (Pending, In Progress, Retrying), newest first, at most `limit`. */
  async listUnfinished(who: Principal, limit = 500): Promise<JobDto[]> {
    const jobs = await this.db.getRepository(Job).find({
      where: { ownerType: who.type, ownerId: who.id, state: In(['Pending', 'In Progress', 'Retrying']) },
      order: { createdAt: 'DESC', id: 'DESC' },
      take: limit,
    });
    const artifacts = jobs.length
      ? await this.db.getRepository(JobArtifact).find({ where: { jobId: In(jobs.map((j) => j.id)) } })
      : [];
    return jobs.map((j) =>
      this.toDto(
        j,
        artifacts.filter((a) => a.jobId === j.id),
      ),
    );
  }

  /** Of these job ids, those whose job is not finished (Pending, In Progress or Retrying). */
  async unfinished(ids: string[], tx?: EntityManager): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows = await (tx ?? this.db.manager).find(Job, {
      select: ['id'],
      where: { id: In(ids), state: In(['Pending', 'In Progress', 'Retrying']) },
    });
    return rows.map((r) => r.id);
  }

  private async openStoredArtifact(id: string, name: string): Promise<ArtifactDownload> {
    const artifact = await this.db.getRepository(JobArtifact).findOneBy({ jobId: id, name });
    if (!artifact)
      throw new JobsError('artifact_not_found', 'The job has no artifact of that name.', { job_id: id, name });
    const base = { name: artifact.name, contentType: artifact.contentType, size: artifact.size };
    if (artifact.text !== null) return { ...base, text: artifact.text };
    try {
      return { ...base, stream: await this.store.storage(artifact.storage!).read(artifact.key!) };
    } catch (e) {
      if (e instanceof ArtifactMissingError) {
        throw new JobsError('artifact_not_found', 'The artifact is no longer stored.', { job_id: id, name });
      }
      throw e;
    }
  }

  /** A job the caller may see, or 404 — never 403, so ids of others' jobs reveal nothing. */
  private async findVisible(who: Principal, id: string): Promise<Job> {
    const job = await this.db.getRepository(Job).findOneBy({ id });
    if (!job || !(this.seesAll(who) || this.owns(who, job))) {
      throw new JobsError('not_found', 'No such job.', { job_id: id });
    }
    return job;
  }

  private owns(who: Principal, job: Job): boolean {
    return job.ownerType === who.type && job.ownerId === who.id;
  }

  private seesAll(who: Principal): boolean {
    return who.isStaff || who.isSupport;
  }

  private mayChange(who: Principal, job: Job): boolean {
    return who.isStaff || this.owns(who, job);
  }

  private toDto(job: Job, artifacts: JobArtifact[]): JobDto {
    return {
      job_id: job.id,
      name: job.name,
      state: job.state,
      created: job.createdAt.toISOString(),
      modified: job.updatedAt.toISOString(),
      completed_steps: job.completedSteps,
      total_steps: job.totalSteps,
      attempts: job.attempts,
      error: job.error,
      artifacts: artifacts.map((a): JobArtifactDto => ({
        name: a.name,
        url: `${this.apiBase}/jobs/${job.id}/artifacts/${encodeURIComponent(a.name)}`,
        content_type: a.contentType,
        size: a.size,
      })),
      text: artifacts.find((a) => a.name === RESULT_ARTIFACT)?.text ?? null,
    };
  }
}
