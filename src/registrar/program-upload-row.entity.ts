import { Column, Entity, ForeignKey, PrimaryColumn } from 'typeorm';

/**
 * One data row of an upload, staged by the request that received the file (so the request streams it
 * and the job reads it back in pages) and removed when the job is done. `outcome` is the row's new
 * status or its error once applied. Keyed by (upload, line): a staging table, no id of its own.
 */
@Entity('program_upload_rows')
export class ProgramUploadRow {
  @PrimaryColumn({ type: 'uuid' })
  @ForeignKey('program_uploads', { name: 'fk_program_upload_rows_upload', onDelete: 'CASCADE' })
  uploadId: string;

  /** The row's line in the file (the header is line 1). */
  @PrimaryColumn({ type: 'integer' })
  line: number;

  @Column({ type: 'text' })
  studentKey: string;

  /** Course uploads: the `course_id` cell (run key or external key). */
  @Column({ type: 'text', nullable: true })
  courseKey: string | null;

  @Column({ type: 'text' })
  status: string;

  @Column({ type: 'boolean', default: false })
  duplicated: boolean;

  @Column({ type: 'varchar', length: 32, nullable: true })
  outcome: string | null;
}
