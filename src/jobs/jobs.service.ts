import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { EntityManager } from 'typeorm';
import type { Principal } from '../common/auth/principal';
import { CommonError } from '../common/errors/common.errors';
import { Listed } from '../common/pagination/pagination';
import { publicUrl } from '../config/load-settings';
import { InjectSettings } from '../config/settings.module';
import { Settings } from '../config/settings.schema';
import { allowsEverywhere, AppAbility } from '../permissions/ability';
import { requireAccess } from '../permissions/access';
import { JobView } from './dto/job.dto';
import { allowsJob, JobOwnerRights } from './job-owner-rights';
import { JobOwnerType } from './job.entity';
import { JobDispatcher } from './jobs.dispatcher';
import { JobsError } from './jobs.errors';
import { JobListFilter, JobsRepository, NewJobRow } from './jobs.repository';
import type { JobDefinition } from './processors/job-definition';
import { JobProcessorRegistry } from './processors/job-processor.registry';
import { ArtifactMissingError } from './storage/artifact-storage';
import { ArtifactStore } from './storage/artifact-store';

/** The 404 of a job the caller may not see, worded like one that does not exist. */
const JOB_NOT_FOUND = (id: string) => ({ message: 'No such job.', details: { job_id: id } });

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

export type { JobListFilter } from './jobs.repository';

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

  constructor(
    private readonly jobs: JobsRepository,
    private readonly registry: JobProcessorRegistry,
    private readonly dispatcher: JobDispatcher,
    private readonly store: ArtifactStore,
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
    await this.jobs.insert(row, tx);
    if (tx) {
      await this.dispatcher.dispatchAfterCommit(tx, registered.definition.queue, { jobId: row.id, lease: 0 });
    } else {
      // The row is committed and is the truth: the caller need not wait for the queue. A dispatch
      // never throws (a failed one is logged and left to the sweeper).
      void this.dispatcher.dispatch(registered.definition.queue, { jobId: row.id, lease: 0 });
    }
    return { id: row.id };
  }

  /**
   * Which of `values` a job of these definitions that may still run (Pending, Retrying, In Progress)
   * lists in its payload's array `key`: work another module handed to a job is held by it until the
   * job ends. Reads only jobs that wait or run (the partial indexes of the sweeper).
   */
  listedInLiveJobs(
    definitions: JobDefinition<object>[],
    key: string,
    values: string[],
    tx?: EntityManager,
  ): Promise<Set<string>> {
    return this.jobs.listedInLiveJobs(
      definitions.map((d) => d.name),
      key,
      values,
      tx,
    );
  }

  /** The jobs the ability may read (its own; staff and support: all), newest first; scoped in SQL. */
  async list(ability: AppAbility, filter: JobListFilter): Promise<Listed<JobView>> {
    const [jobs, count] = await this.jobs.page(ability, filter);
    const artifacts = await this.jobs.artifactsOf(jobs.map((j) => j.id));
    return [
      jobs.map((j) =>
        JobView.of(
          j,
          artifacts.filter((a) => a.jobId === j.id),
          this.apiBase,
        ),
      ),
      count,
    ];
  }

  /** When the latest job of this name was created (whoever owns it), or null when there is none. */
  latestCreatedAt(name: string): Promise<Date | null> {
    return this.jobs.latestCreatedAt(name);
  }

  /** A job the ability may read; 404 otherwise — never 403, so ids of others' jobs reveal nothing. */
  async get(ability: AppAbility, id: string): Promise<JobView> {
    const job = requireAccess(ability, 'read', 'Job', await this.jobs.findById(id), JOB_NOT_FOUND(id));
    const artifacts = await this.jobs.artifactsOf([id]);
    return JobView.of(job, artifacts, this.apiBase);
  }

  /**
   * Pending/Retrying → Canceled at once; In Progress → cancel requested (the run ends Canceled at its
   * next step); a finished job → 409. One guarded statement, so a racing worker cannot be overtaken.
   */
  async cancel(ability: AppAbility, id: string): Promise<JobView> {
    const job = requireAccess(ability, 'cancel', 'Job', await this.jobs.findById(id), JOB_NOT_FOUND(id));
    const { state, refused } = await this.jobs.requestCancel(id);
    // Canceled before any run saw it through: its processor releases what the payload holds.
    if (!refused && state === 'Canceled') {
      await this.registry.notifyAbandoned([
        {
          jobId: id,
          name: job.name,
          payload: job.payload,
          owner: { type: job.ownerType, id: job.ownerId },
          state: 'Canceled',
          error: null,
        },
      ]);
    }
    if (refused) {
      throw new JobsError('invalid_state', `The job is already ${state}.`, {
        job_id: id,
        state,
      });
    }
    return this.get(ability, id);
  }

  /**
   * An artifact's bytes: inline text, or a stream from the storage (never read whole). An owner who no
   * longer holds the permission the job's definition requires (say, to export the users it lists)
   * may still follow the job but not read its artifacts: 403. Staff and support read every artifact.
   */
  async openArtifact(ability: AppAbility, id: string, name: string): Promise<ArtifactDownload> {
    const job = requireAccess(ability, 'read', 'Job', await this.jobs.findById(id), JOB_NOT_FOUND(id));
    const permission = this.registry.requiredPermission(job.name, job.payload);
    if (permission && !allowsEverywhere(ability, 'read', 'Job') && !allowsJob(ability, permission)) {
      throw new CommonError(
        'forbidden',
        `You may no longer ${permission.description}, so this job's artifacts are closed to you.`,
        { job_id: id },
      );
    }
    return this.openStoredArtifact(id, name);
  }

  /** Whether the caller sees the job and may read its artifacts (the checks of openArtifact, without opening one). */
  async mayReadArtifacts(ability: AppAbility, id: string): Promise<boolean> {
    const job = requireAccess(ability, 'read', 'Job', await this.jobs.findById(id), JOB_NOT_FOUND(id));
    const permission = this.registry.requiredPermission(job.name, job.payload);
    return !permission || allowsEverywhere(ability, 'read', 'Job') || allowsJob(ability, permission);
  }

  /**
   * An artifact for whoever holds a link the application signed for it (no principal): allowed only
   * while the job's owner still holds the permission the job requires. 404 for an unknown job.
   */
  async openArtifactForOwner(id: string, name: string): Promise<ArtifactDownload> {
    const job = await this.jobs.findById(id);
    if (!job) throw new CommonError('not_found', 'No such job.', { job_id: id });
    const permission = this.registry.requiredPermission(job.name, job.payload);
    if (permission && !(await this.ownerRights.hold({ type: job.ownerType, id: job.ownerId }, permission))) {
      throw new CommonError('forbidden', `The job's owner may no longer ${permission.description}.`, { job_id: id });
    }
    return this.openStoredArtifact(id, name);
  }

  /** The caller's jobs still waiting or running (Pending, In Progress, Retrying), newest first, at most `limit`. */
  async listUnfinished(who: Principal, limit = 500): Promise<JobView[]> {
    const jobs = await this.jobs.unfinishedOf({ type: who.type, id: who.id }, limit);
    const artifacts = await this.jobs.artifactsOf(jobs.map((j) => j.id));
    return jobs.map((j) =>
      JobView.of(
        j,
        artifacts.filter((a) => a.jobId === j.id),
        this.apiBase,
      ),
    );
  }

  /** Of these job ids, those whose job is not finished (Pending, In Progress or Retrying). */
  unfinished(ids: string[], tx?: EntityManager): Promise<string[]> {
    return this.jobs.unfinishedAmong(ids, tx);
  }

  private async openStoredArtifact(id: string, name: string): Promise<ArtifactDownload> {
    const artifact = await this.jobs.findArtifact(id, name);
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
}
