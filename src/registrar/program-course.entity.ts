import { Column, Entity, ForeignKey, Index } from 'typeorm';
import { BaseEntity } from '../database/base.entity';

/**
 * A course run of a program: `course_id` is the run's key (`course-v1:Org+Course+Run`), unique in
 * the program; `external_course_key` the school's key for it, unique in the program when set.
 */
@Entity('program_courses')
@Index('uq_program_courses_course', ['programId', 'courseId'], { unique: true })
@Index('uq_program_courses_external_key', ['programId', 'externalCourseKey'], {
  unique: true,
  where: 'external_course_key IS NOT NULL',
})
export class ProgramCourse extends BaseEntity {
  @Column({ type: 'uuid' })
  @ForeignKey('programs', { name: 'fk_program_courses_program', onDelete: 'CASCADE' })
  programId: string;

  @Column({ type: 'varchar', length: 255 })
  courseId: string;

  @Column({ type: 'varchar', length: 255, nullable: true })
  externalCourseKey: string | null;

  @Column({ type: 'varchar', length: 255 })
  title: string;

  @Column({ type: 'varchar', length: 2048, nullable: true })
  url: string | null;
}
