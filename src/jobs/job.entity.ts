import { Check, Column, Entity, Index } from 'typeorm';
import { BaseEntity } from '../database/base.entity';

export const JOB_STATES = ['Pending', 'In Progress', 'Succeeded', 'Failed', 'Canceled', 'Retrying'] as const;
export type JobState = (typeof JOB_STATES)[number];

/** States a job never leaves. */
export const FINISHED_STATES: readonly JobState[] = ['Succeeded', 'Failed', 'Canceled'];

export type JobOwnerType = 'user' | 'service_account';

/**
 * A durable job record: the truth about a job. Queues only carry its id. Owners are polymorphic
 * (user or service account) and organizations belong to another module, so neither has a foreign key.
 */
@Entity('jobs')
@Index('ix_jobs_owner_created', ['ownerType', 'ownerId', 'createdAt'])
@Index('ix_jobs_created', ['createdAt'])
// The sweeper's scans: waiting rows by due time, running rows by heartbeat.
@Index('ix_jobs_waiting', ['availableAt'], { where: `state IN ('Pending', 'Retrying')` })
@Index('ix_jobs_running', ['heartbeatAt'], { where: `state = 'In Progress'` })
@Check('ck_jobs_failed_has_error', `"state" <> 'Failed' OR "error" IS NOT NULL`)
export class Job extends BaseEntity {
  /** The processor's registered name, e.g. `users.export`. Not indexed: a handful of values. */
  @Column({ type: 'varchar', length: 100 })
  name: string;

  @Column({ type: 'varchar', length: 20 })
  ownerType: JobOwnerType;

  @Column({ type: 'uuid' })
  ownerId: string;

  /** Not indexed: nothing looks jobs up by organization, and each index costs every job three writes. */
  @Column({ type: 'uuid', nullable: true })
  organizationId: string | null;

  @Column({ type: 'enum', enum: JOB_STATES, enumName: 'job_state', default: 'Pending' })
  state: JobState;

  @Column({ type: 'int', default: 0 })
  completedSteps: number;

  @Column({ type: 'int', nullable: true })
  totalSteps: number | null;

  /** Runs started so far (a run interrupted by a clean shutdown gives its attempt back). */
  @Column({ type: 'int', default: 0 })
  attempts: number;

  /**
   * The number of the latest run: every claim takes the next one, and every write of a run is fenced
   * by it, so a run the job was taken from (its worker stalled, or shut down) cannot touch it any more.
   */
  @Column({ type: 'int', default: 0 })
  lease: number;

  @Column({ type: 'int', default: 3 })
  maxAttempts: number;

  @Column({ type: 'jsonb', default: {} })
  payload: Record<string, unknown>;

  /** Last failure; always set on Failed (a check constraint holds every writer to it). */
  @Column({ type: 'text', nullable: true })
  error: string | null;

  /** When a waiting job is due; the sweeper dispatches again a job left waiting well past it. */
  @Column({ type: 'timestamptz', default: () => 'now()' })
  availableAt: Date;

  @Column({ type: 'timestamptz', nullable: true })
  startedAt: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  finishedAt: Date | null;

  /** Refreshed by the worker running the job; a stale heartbeat means the worker is gone. */
  @Column({ type: 'timestamptz', nullable: true })
  heartbeatAt: Date | null;

  /** Set by a cancel of a running job; the processor stops at its next step. */
  @Column({ type: 'timestamptz', nullable: true })
  cancelRequestedAt: Date | null;
}
