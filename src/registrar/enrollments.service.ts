import { Injectable, Logger } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AuditService } from '../accounts/audit/audit.service';
import type { Principal } from '../common/auth/principal';
import { InjectSettings } from '../config/settings.module';
import { Settings } from '../config/settings.schema';
import { TransactionRunner } from '../database/transaction';
import type { AppAbility } from '../permissions/ability';
import { COURSE_ENROLLMENT_STATUSES, CourseEnrollmentStatus } from './course-enrollment.entity';
import { duplicatedKeys, EnrollmentRow, parseEnrollmentRows, RowError, writeStatus } from './enrollment-rows';
import { EnrollmentsRepository } from './enrollments.repository';
import { PROGRAM_ENROLLMENT_STATUSES, ProgramEnrollmentStatus } from './program-enrollment.entity';
import { ProgramCourse } from './program-course.entity';
import { Program } from './program.entity';
import { ProgramsService } from './programs.service';

/** `create`: POST (an existing enrollment is a conflict); `update`: PATCH (a missing one is not found); `upsert`: uploads. */
export type WriteMode = 'create' | 'update' | 'upsert';

export interface WriteResult {
  status: 200 | 207 | 422;
  /** `{ student_key: status | error }`, in the order of the request. */
  results: Record<string, string>;
}

const isProgramStatus = (s: string): s is ProgramEnrollmentStatus =>
  (PROGRAM_ENROLLMENT_STATUSES as readonly string[]).includes(s);
const isCourseStatus = (s: string): s is CourseEnrollmentStatus =>
  (COURSE_ENROLLMENT_STATUSES as readonly string[]).includes(s);

/** Statuses from which a learner cannot be made active in a course. */
const CLOSED_PROGRAM_STATUSES: readonly ProgramEnrollmentStatus[] = ['canceled', 'ended'];

/**
 * Program and course enrollment writes. Every row is checked first (duplicates, statuses), then the
 * rest are written in one transaction by a constant number of set-based statements. A row either
 * is written whole or reports why not; rows that succeed commit even when others fail.
 */
@Injectable()
export class EnrollmentsService {
  private readonly logger = new Logger(EnrollmentsService.name);

  constructor(
    private readonly programs: ProgramsService,
    private readonly enrollments: EnrollmentsRepository,
    private readonly audit: AuditService,
    private readonly tx: TransactionRunner,
    @InjectSettings() private readonly settings: Settings,
  ) {}

  /** POST/PATCH `/programs/{key}/enrollments`. */
  async writeProgramEnrollments(
    who: Principal,
    ability: AppAbility,
    programKey: string,
    body: unknown,
    mode: 'create' | 'update',
  ): Promise<WriteResult> {
    const program = await this.programs.byKey(ability, programKey, 'write_enrollments');
    const rows = parseEnrollmentRows(body, this.settings.REGISTRAR_ENROLLMENT_WRITE_MAX_ROWS, false);
    const results = await this.applyProgramRows(who, program, rows, mode);
    return { status: writeStatus(results, isProgramStatus), results: Object.fromEntries(results) };
  }

  /** POST/PATCH `/programs/{key}/courses/{course_id}/enrollments`. */
  async writeCourseEnrollments(
    who: Principal,
    ability: AppAbility,
    programKey: string,
    courseKey: string,
    body: unknown,
    mode: 'create' | 'update',
  ): Promise<WriteResult> {
    const program = await this.programs.byKey(ability, programKey, 'write_enrollments');
    const course = await this.programs.courseOf(program, courseKey);
    const rows = parseEnrollmentRows(body, this.settings.REGISTRAR_ENROLLMENT_WRITE_MAX_ROWS, true);
    const results = await this.applyCourseRows(who, program, course, rows, mode);
    return { status: writeStatus(results, isCourseStatus), results: Object.fromEntries(results) };
  }

  /**
   * Writes program enrollment rows: the outcome of each student key. `tx` joins a caller's
   * transaction (an upload chunk); without it the rows get one of their own.
   */
  async applyProgramRows(
    who: Principal | null,
    program: Program,
    rows: EnrollmentRow[],
    mode: WriteMode,
    tx?: EntityManager,
  ): Promise<Map<string, string>> {
    const results = new Map<string, string>();
    const twice = duplicatedKeys(rows);
    const candidates: { studentKey: string; status: ProgramEnrollmentStatus }[] = [];
    for (const row of rows) {
      if (twice.has(row.studentKey)) results.set(row.studentKey, 'duplicated');
      else if (!isProgramStatus(row.status)) results.set(row.studentKey, 'invalid-status');
      else {
        results.set(row.studentKey, row.status);
        candidates.push({ studentKey: row.studentKey, status: row.status });
      }
    }
    if (candidates.length === 0) return results;
    const fail = (key: string, error: RowError) => results.set(key, error);
    const write = async (m: EntityManager) => {
      const existing = new Map(
        (
          await this.enrollments.lockProgramEnrollments(
            m,
            program.id,
            candidates.map((c) => c.studentKey),
          )
        ).map((e) => [e.studentKey, e.status]),
      );
      const inserts: typeof candidates = [];
      const updates: typeof candidates = [];
      for (const c of candidates) {
        const current = existing.get(c.studentKey);
        if (current === undefined) {
          if (mode === 'update') fail(c.studentKey, 'not-found');
          else inserts.push(c);
        } else if (mode === 'create') fail(c.studentKey, 'conflict');
        // An ended enrollment is final: it may be written as ended again, nothing else.
        else if (current === 'ended' && c.status !== 'ended') fail(c.studentKey, 'illegal-operation');
        else updates.push(c);
      }
      const inserted = await this.enrollments.insertProgramEnrollments(m, program.id, inserts);
      for (const c of inserts) if (!inserted.has(c.studentKey)) fail(c.studentKey, 'conflict');
      const updated = await this.enrollments.updateProgramEnrollments(m, program.id, updates);
      for (const c of updates) if (!updated.has(c.studentKey)) fail(c.studentKey, 'not-found');
      await this.record(m, who, program, null, mode, inserted.size + updated.size, rows.length);
    };
    await this.guarded(candidates, results, () => (tx ? write(tx) : this.tx.run(write)), Boolean(tx));
    return results;
  }

  /** Writes course enrollment rows of one course: the outcome of each student key. */
  async applyCourseRows(
    who: Principal | null,
    program: Program,
    course: ProgramCourse,
    rows: EnrollmentRow[],
    mode: WriteMode,
    tx?: EntityManager,
  ): Promise<Map<string, string>> {
    const results = new Map<string, string>();
    const twice = duplicatedKeys(rows);
    const candidates: { studentKey: string; status: CourseEnrollmentStatus; courseStaff: boolean | null }[] = [];
    for (const row of rows) {
      if (twice.has(row.studentKey)) results.set(row.studentKey, 'duplicated');
      else if (!isCourseStatus(row.status)) results.set(row.studentKey, 'invalid-status');
      else {
        results.set(row.studentKey, row.status);
        candidates.push({ studentKey: row.studentKey, status: row.status, courseStaff: row.courseStaff });
      }
    }
    if (candidates.length === 0) return results;
    const fail = (key: string, error: RowError) => results.set(key, error);
    const write = async (m: EntityManager) => {
      const learners = new Map(
        (
          await this.enrollments.lockLearners(
            m,
            program.id,
            course.id,
            candidates.map((c) => c.studentKey),
          )
        ).map((l) => [l.studentKey, l]),
      );
      type Change = { programEnrollmentId: string; status: CourseEnrollmentStatus; courseStaff: boolean | null };
      const inserts: (Change & { studentKey: string })[] = [];
      const updates: (Change & { studentKey: string })[] = [];
      for (const c of candidates) {
        const learner = learners.get(c.studentKey);
        if (!learner) {
          fail(c.studentKey, 'not-in-program');
          continue;
        }
        if (c.status === 'active' && CLOSED_PROGRAM_STATUSES.includes(learner.programStatus)) {
          fail(c.studentKey, 'illegal-operation');
          continue;
        }
        const change = { ...c, programEnrollmentId: learner.programEnrollmentId };
        if (learner.courseStatus === null) {
          if (mode === 'update') fail(c.studentKey, 'not-found');
          else inserts.push(change);
        } else if (mode === 'create') fail(c.studentKey, 'conflict');
        else updates.push(change);
      }
      const inserted = await this.enrollments.insertCourseEnrollments(m, course.id, inserts);
      for (const c of inserts) if (!inserted.has(c.programEnrollmentId)) fail(c.studentKey, 'conflict');
      const updated = await this.enrollments.updateCourseEnrollments(m, course.id, updates);
      for (const c of updates) if (!updated.has(c.programEnrollmentId)) fail(c.studentKey, 'not-found');
      await this.record(m, who, program, course, mode, inserted.size + updated.size, rows.length);
    };
    await this.guarded(candidates, results, () => (tx ? write(tx) : this.tx.run(write)), Boolean(tx));
    return results;
  }

  /**
   * Runs a write; if it fails unexpectedly (its transaction rolled back), every row it carried is
   * `internal-error` — nothing of them was written. Inside a caller's transaction the error is
   * the caller's to handle.
   */
  private async guarded(
    candidates: { studentKey: string }[],
    results: Map<string, string>,
    work: () => Promise<void>,
    inCallerTransaction: boolean,
  ): Promise<void> {
    const before = new Map(results);
    try {
      await work();
    } catch (e) {
      if (inCallerTransaction) throw e;
      this.logger.error({ err: e }, 'enrollment write failed');
      for (const [key, value] of before) results.set(key, value);
      for (const c of candidates) results.set(c.studentKey, 'internal-error');
    }
  }

  private async record(
    tx: EntityManager,
    who: Principal | null,
    program: Program,
    course: ProgramCourse | null,
    mode: WriteMode,
    written: number,
    rows: number,
  ): Promise<void> {
    await this.audit.record(
      {
        action: course ? 'program.course_enrollments_written' : 'program.enrollments_written',
        actor: who ?? { type: 'system' },
        subjectType: 'Program',
        subjectId: program.id,
        organizationId: program.organizationId,
        data: { mode, rows, written, ...(course ? { course: course.id, course_id: course.courseId } : {}) },
      },
      tx,
    );
  }
}
