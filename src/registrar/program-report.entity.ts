import { Column, Entity, ForeignKey, Index } from 'typeorm';
import { BaseEntity } from '../database/base.entity';

/** A report file of a program, placed by staff (or a scheduled job) and listed by `/programs/{key}/reports`. */
@Entity('program_reports')
@Index('uq_program_reports_name', ['programId', 'name'], { unique: true })
export class ProgramReport extends BaseEntity {
  @Column({ type: 'uuid' })
  @ForeignKey('programs', { name: 'fk_program_reports_program', onDelete: 'CASCADE' })
  programId: string;

  @Column({ type: 'varchar', length: 255 })
  name: string;

  @Column({ type: 'date' })
  createdDate: string;

  @Column({ type: 'varchar', length: 255 })
  contentType: string;

  @Column({ type: 'bytea' })
  content: Buffer;

  @Column({ type: 'integer' })
  size: number;
}
