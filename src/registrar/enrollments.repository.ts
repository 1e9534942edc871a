import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { queryRows } from '../database/query';
import type { CourseEnrollmentStatus } from './course-enrollment.entity';
import type { ProgramEnrollmentStatus } from './program-enrollment.entity';

export interface ExistingProgramEnrollment {
  studentKey: string;
  status: ProgramEnrollmentStatus;
}

export interface ExistingLearner {
  studentKey: string;
  programEnrollmentId: string;
  programStatus: ProgramEnrollmentStatus;
  /** The learner's enrollment in the course asked about, if any. */
  courseStatus: CourseEnrollmentStatus | null;
}

export interface ProgramEnrollmentRow {
  student_key: string;
  status: ProgramEnrollmentStatus;
  account_exists: boolean;
}

export interface CourseEnrollmentRow {
  course_id: string;
  student_key: string;
  status: CourseEnrollmentStatus;
  account_exists: boolean;
  /** Keyset position, not part of the output. */
  sort_course: string;
}

export interface CourseLearner {
  studentKey: string;
  userId: string | null;
}

/**
 * The program_enrollments and course_enrollments tables. Writes are set-based: one statement for
 * any number of rows, so a write of 25 rows costs what a write of one does.
 */
@Injectable()
export class EnrollmentsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** The program's enrollments of these students, locked (FOR UPDATE) until `tx` ends. */
  lockProgramEnrollments(tx: EntityManager, programId: string, keys: string[]): Promise<ExistingProgramEnrollment[]> {
    return queryRows(
      tx,
      `SELECT student_key AS "studentKey", status FROM program_enrollments
        WHERE program_id = $1 AND student_key = ANY($2::varchar[]) FOR UPDATE`,
      [programId, keys],
    );
  }

  /** Inserts the enrollments that do not exist yet; answers the student keys inserted. */
  async insertProgramEnrollments(
    tx: EntityManager,
    programId: string,
    rows: { studentKey: string; status: ProgramEnrollmentStatus }[],
  ): Promise<Set<string>> {
    if (rows.length === 0) return new Set();
    const done = await queryRows<{ student_key: string }>(
      tx,
      `INSERT INTO program_enrollments (program_id, student_key, status)
       SELECT $1, k, s FROM unnest($2::varchar[], $3::varchar[]) AS v(k, s)
       ON CONFLICT (program_id, student_key) DO NOTHING
       RETURNING student_key`,
      [programId, rows.map((r) => r.studentKey), rows.map((r) => r.status)],
    );
    return new Set(done.map((r) => r.student_key));
  }

  /** Sets the status of existing enrollments; answers the student keys updated. */
  async updateProgramEnrollments(
    tx: EntityManager,
    programId: string,
    rows: { studentKey: string; status: ProgramEnrollmentStatus }[],
  ): Promise<Set<string>> {
    if (rows.length === 0) return new Set();
    const done = await queryRows<{ student_key: string }>(
      tx,
      `UPDATE program_enrollments e SET status = v.s, updated_at = now()
         FROM unnest($2::varchar[], $3::varchar[]) AS v(k, s)
        WHERE e.program_id = $1 AND e.student_key = v.k
        RETURNING e.student_key`,
      [programId, rows.map((r) => r.studentKey), rows.map((r) => r.status)],
    );
    return new Set(done.map((r) => r.student_key));
  }

  /**
   * The program's learners among `keys` with their enrollment in one course, program enrollments
   * locked (FOR UPDATE) until `tx` ends.
   */
  lockLearners(
    tx: EntityManager,
    programId: string,
    programCourseId: string,
    keys: string[],
  ): Promise<ExistingLearner[]> {
    return queryRows(
      tx,
      `SELECT pe.student_key AS "studentKey", pe.id AS "programEnrollmentId", pe.status AS "programStatus",
              ce.status AS "courseStatus"
         FROM program_enrollments pe
         LEFT JOIN course_enrollments ce ON ce.program_enrollment_id = pe.id AND ce.program_course_id = $2
        WHERE pe.program_id = $1 AND pe.student_key = ANY($3::varchar[])
          FOR UPDATE OF pe`,
      [programId, programCourseId, keys],
    );
  }

  async insertCourseEnrollments(
    tx: EntityManager,
    programCourseId: string,
    rows: { programEnrollmentId: string; status: CourseEnrollmentStatus; courseStaff: boolean | null }[],
  ): Promise<Set<string>> {
    if (rows.length === 0) return new Set();
    const done = await queryRows<{ program_enrollment_id: string }>(
      tx,
      `INSERT INTO course_enrollments (program_course_id, program_enrollment_id, status, course_staff)
       SELECT $1, e, s, COALESCE(c, false) FROM unnest($2::uuid[], $3::varchar[], $4::boolean[]) AS v(e, s, c)
       ON CONFLICT (program_course_id, program_enrollment_id) DO NOTHING
       RETURNING program_enrollment_id`,
      [
        programCourseId,
        rows.map((r) => r.programEnrollmentId),
        rows.map((r) => r.status),
        rows.map((r) => r.courseStaff),
      ],
    );
    return new Set(done.map((r) => r.program_enrollment_id));
  }

  /** Updates status (and course_staff where given) of existing course enrollments. */
  async updateCourseEnrollments(
    tx: EntityManager,
    programCourseId: string,
    rows: { programEnrollmentId: string; status: CourseEnrollmentStatus; courseStaff: boolean | null }[],
  ): Promise<Set<string>> {
    if (rows.length === 0) return new Set();
    const done = await queryRows<{ program_enrollment_id: string }>(
      tx,
      `UPDATE course_enrollments ce SET status = v.s, course_staff = COALESCE(v.c, ce.course_staff), updated_at = now()
         FROM unnest($2::uuid[], $3::varchar[], $4::boolean[]) AS v(e, s, c)
        WHERE ce.program_course_id = $1 AND ce.program_enrollment_id = v.e
        RETURNING ce.program_enrollment_id`,
      [
        programCourseId,
        rows.map((r) => r.programEnrollmentId),
        rows.map((r) => r.status),
        rows.map((r) => r.courseStaff),
      ],
    );
    return new Set(done.map((r) => r.program_enrollment_id));
  }

  /** Whether the program has any enrollment (a program with learners is not deleted). */
  async programHasEnrollments(tx: EntityManager, programId: string): Promise<boolean> {
    const rows = await queryRows(tx, 'SELECT 1 FROM program_enrollments WHERE program_id = $1 LIMIT 1', [programId]);
    return rows.length > 0;
  }

  async courseHasEnrollments(tx: EntityManager, programCourseId: string): Promise<boolean> {
    const rows = await queryRows(tx, 'SELECT 1 FROM course_enrollments WHERE program_course_id = $1 LIMIT 1', [
      programCourseId,
    ]);
    return rows.length > 0;
  }

  /**
   * The same page as programEnrollmentPage, serialized by PostgreSQL: the rows as JSON objects
   * joined by commas (`{"student_key":…,"status":…,"account_exists":…}`), their count and the last
   * student key (the next keyset position). The export moves one string per page instead of
   * parsing rows into objects and serializing them again.
   */
  async programEnrollmentJsonPage(
    programId: string,
    after: string | null,
    limit: number,
  ): Promise<{ json: string; count: number; last: string } | null> {
    const [page] = await queryRows<{ json: string | null; count: number; last: string }>(
      this.db,
      `SELECT string_agg(row_to_json(p)::text, ',' ORDER BY p.student_key) AS json, count(*)::int AS count,
              max(p.student_key) AS last
         FROM (SELECT student_key, status, user_id IS NOT NULL AS account_exists
                 FROM program_enrollments
                WHERE program_id = $1 AND ($2::varchar IS NULL OR student_key > $2)
                ORDER BY student_key LIMIT $3) p`,
      [programId, after, limit],
    );
    return page && page.json !== null ? { json: page.json, count: page.count, last: page.last } : null;
  }

  /** One page of the program's enrollments by student key, after `after` (keyset). */
  programEnrollmentPage(programId: string, after: string | null, limit: number): Promise<ProgramEnrollmentRow[]> {
    return queryRows(
      this.db,
      `SELECT student_key, status, user_id IS NOT NULL AS account_exists
         FROM program_enrollments
        WHERE program_id = $1 AND ($2::varchar IS NULL OR student_key > $2)
        ORDER BY student_key LIMIT $3`,
      [programId, after, limit],
    );
  }

  /**
   * One page of course enrollments of the program (or of one course of it), ordered by course run
   * key then student key, after the keyset position `after`. `course_id` is the school's external
   * key where the course has one, as upstream answers.
   */
  courseEnrollmentPage(
    programId: string,
    programCourseId: string | null,
    after: { course: string; studentKey: string } | null,
    limit: number,
  ): Promise<CourseEnrollmentRow[]> {
    return queryRows(
      this.db,
      `SELECT COALESCE(c.external_course_key, c.course_id) AS course_id, pe.student_key, ce.status,
              pe.user_id IS NOT NULL AS account_exists, c.course_id AS sort_course
         FROM course_enrollments ce
         JOIN program_courses c ON c.id = ce.program_course_id
         JOIN program_enrollments pe ON pe.id = ce.program_enrollment_id
        WHERE c.program_id = $1 AND ($2::uuid IS NULL OR c.id = $2)
          AND ($3::varchar IS NULL OR (c.course_id, pe.student_key) > ($3, $4::varchar))
        ORDER BY c.course_id, pe.student_key LIMIT $5`,
      [programId, programCourseId, after?.course ?? null, after?.studentKey ?? null, limit],
    );
  }

  /** One page of a course's learners (student key and user), by student key after `after`. */
  courseLearnerPage(programCourseId: string, after: string | null, limit: number): Promise<CourseLearner[]> {
    return queryRows(
      this.db,
      `SELECT pe.student_key AS "studentKey", pe.user_id AS "userId"
         FROM course_enrollments ce JOIN program_enrollments pe ON pe.id = ce.program_enrollment_id
        WHERE ce.program_course_id = $1 AND ($2::varchar IS NULL OR pe.student_key > $2)
        ORDER BY pe.student_key LIMIT $3`,
      [programCourseId, after, limit],
    );
  }

  async countProgramEnrollments(programId: string): Promise<number> {
    const [row] = await queryRows<{ n: number }>(
      this.db,
      'SELECT count(*)::int AS n FROM program_enrollments WHERE program_id = $1',
      [programId],
    );
    return row.n;
  }

  async countCourseEnrollments(programId: string, programCourseId: string | null): Promise<number> {
    const [row] = await queryRows<{ n: number }>(
      this.db,
      `SELECT count(*)::int AS n FROM course_enrollments ce JOIN program_courses c ON c.id = ce.program_course_id
        WHERE c.program_id = $1 AND ($2::uuid IS NULL OR c.id = $2)`,
      [programId, programCourseId],
    );
    return row.n;
  }
}
