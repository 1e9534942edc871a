import { Check, Column, Entity, ForeignKey, Index } from 'typeorm';
import { BaseEntity } from '../database/base.entity';

export const PROGRAM_ENROLLMENT_STATUSES = ['enrolled', 'pending', 'suspended', 'canceled', 'ended'] as const;
export type ProgramEnrollmentStatus = (typeof PROGRAM_ENROLLMENT_STATUSES)[number];

/**
 * A learner in a program, named by the school's opaque `student_key` (unique in the program). The
 * user is set once the learner has an account here (`account_exists` in the Registrar API).
 */
@Entity('program_enrollments')
@Index('uq_program_enrollments_student', ['programId', 'studentKey'], { unique: true })
@Check('ck_program_enrollments_status', `status IN ('enrolled', 'pending', 'suspended', 'canceled', 'ended')`)
export class ProgramEnrollment extends BaseEntity {
  @Column({ type: 'uuid' })
  @ForeignKey('programs', { name: 'fk_program_enrollments_program', onDelete: 'RESTRICT' })
  programId: string;

  @Column({ type: 'varchar', length: 255 })
  studentKey: string;

  @Index('ix_program_enrollments_user', { where: 'user_id IS NOT NULL' })
  @Column({ type: 'uuid', nullable: true })
  @ForeignKey('users', { name: 'fk_program_enrollments_user', onDelete: 'SET NULL' })
  userId: string | null;

  @Column({ type: 'varchar', length: 16 })
  status: ProgramEnrollmentStatus;
}
