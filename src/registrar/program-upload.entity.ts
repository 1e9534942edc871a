import { Check, Column, Entity, ForeignKey, Index } from 'typeorm';
import { BaseEntity } from '../database/base.entity';

export const UPLOAD_KINDS = ['program', 'course'] as const;
export type UploadKind = (typeof UPLOAD_KINDS)[number];

/**
 * A CSV enrollment upload of a program and the job that applies it. While such a job is not
 * finished, the program takes no other upload (409). `done` is set once the job has written its
 * result, and its staged rows are gone.
 */
@Entity('program_uploads')
@Index('ix_program_uploads_open', ['programId'], { where: 'NOT done' })
@Check('ck_program_uploads_kind', `kind IN ('program', 'course')`)
export class ProgramUpload extends BaseEntity {
  @Column({ type: 'uuid' })
  @ForeignKey('programs', { name: 'fk_program_uploads_program', onDelete: 'CASCADE' })
  programId: string;

  @Column({ type: 'uuid' })
  jobId: string;

  @Column({ type: 'varchar', length: 16 })
  kind: UploadKind;

  @Column({ type: 'boolean', default: false })
  done: boolean;
}
