import { Check, Column, Entity, ForeignKey, Index } from 'typeorm';
import { BaseEntity } from '../database/base.entity';

export const COURSE_ENROLLMENT_STATUSES = ['active', 'inactive'] as const;
export type CourseEnrollmentStatus = (typeof COURSE_ENROLLMENT_STATUSES)[number];

/** A program learner in one course of the program. */
@Entity('course_enrollments')
@Index('uq_course_enrollments_learner', ['programCourseId', 'programEnrollmentId'], { unique: true })
@Check('ck_course_enrollments_status', `status IN ('active', 'inactive')`)
export class CourseEnrollment extends BaseEntity {
  @Index('ix_course_enrollments_program_enrollment')
  @Column({ type: 'uuid' })
  @ForeignKey('program_enrollments', { name: 'fk_course_enrollments_program_enrollment', onDelete: 'CASCADE' })
  programEnrollmentId: string;

  @Column({ type: 'uuid' })
  @ForeignKey('program_courses', { name: 'fk_course_enrollments_program_course', onDelete: 'RESTRICT' })
  programCourseId: string;

  @Column({ type: 'varchar', length: 16 })
  status: CourseEnrollmentStatus;

  @Column({ type: 'boolean', default: false })
  courseStaff: boolean;
}
