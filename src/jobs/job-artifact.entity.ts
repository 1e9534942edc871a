import { Check, Column, Entity, JoinColumn, ManyToOne, Unique } from 'typeorm';
import { BaseEntity } from '../database/base.entity';
import { Job } from './job.entity';

export type ArtifactStorageKind = 'fs' | 's3';

/**
 * A result of a job: small text inline in `text`, anything larger in the artifact storage under
 * `key`. One row per (job, name): a re-run overwrites its artifacts instead of adding more.
 */
@Entity('job_artifacts')
@Unique('uq_job_artifacts_job_name', ['jobId', 'name'])
@Check('ck_job_artifacts_content', `"text" IS NOT NULL OR ("storage" IS NOT NULL AND "key" IS NOT NULL)`)
export class JobArtifact extends BaseEntity {
  @Column({ type: 'uuid' })
  jobId: string;

  @ManyToOne(() => Job, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'job_id', foreignKeyConstraintName: 'fk_job_artifacts_job' })
  job?: Job;

  @Column({ type: 'varchar', length: 200 })
  name: string;

  /** Where the bytes are; null when the artifact is inline text. */
  @Column({ type: 'varchar', length: 10, nullable: true })
  storage: ArtifactStorageKind | null;

  @Column({ type: 'varchar', length: 500, nullable: true })
  key: string | null;

  @Column({ type: 'varchar', length: 200 })
  contentType: string;

  @Column({
    type: 'bigint',
    default: 0,
    transformer: { to: (v: number) => v, from: (v: string | null) => (v === null ? 0 : Number(v)) },
  })
  size: number;

  @Column({ type: 'text', nullable: true })
  text: string | null;
}
