import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { ProgramCourse } from '../../src/registrar/program-course.entity';
import { Program } from '../../src/registrar/program.entity';
import type { TestApp } from '../utils/test-app';
import { unique } from './accounts';

const ds = (t: TestApp) => t.app.get(DataSource);

export async function createProgram(
  t: TestApp,
  organizationId: string,
  overrides: Partial<Program> = {},
): Promise<Program> {
  const repo = ds(t).getRepository(Program);
  const key = overrides.key ?? unique('masters');
  return repo.save(
    repo.create({
      organizationId,
      key,
      uuid: randomUUID(),
      title: `Program ${key}`,
      type: 'Masters',
      url: `https://example.edu/${key}/`,
      status: 'active',
      ...overrides,
    }),
  );
}

export async function createProgramCourse(
  t: TestApp,
  programId: string,
  overrides: Partial<ProgramCourse> = {},
): Promise<ProgramCourse> {
  const repo = ds(t).getRepository(ProgramCourse);
  const run = unique('run');
  return repo.save(
    repo.create({
      programId,
      courseId: `course-v1:TestX+${run}+Spring`,
      externalCourseKey: null,
      title: `Course ${run}`,
      url: null,
      ...overrides,
    }),
  );
}

export const programScope = (program: { id: string; organizationId: string }) => ({
  type: 'program' as const,
  id: program.id,
  organizationId: program.organizationId,
});

/** Program enrollments straight in the database: `[student_key, status, userId?]`. */
export async function enroll(
  t: TestApp,
  programId: string,
  rows: [string, string, string?][],
): Promise<Record<string, string>> {
  const ids: Record<string, string> = {};
  for (const [key, status, userId] of rows) {
    const [row] = await ds(t).query(
      'INSERT INTO program_enrollments (program_id, student_key, status, user_id) VALUES ($1, $2, $3, $4) RETURNING id',
      [programId, key, status, userId ?? null],
    );
    ids[key] = row.id;
  }
  return ids;
}

/** Course enrollments straight in the database, for program enrollment ids. */
export async function enrollInCourse(
  t: TestApp,
  programCourseId: string,
  rows: [string, string, boolean?][],
): Promise<void> {
  for (const [programEnrollmentId, status, staff] of rows) {
    await ds(t).query(
      'INSERT INTO course_enrollments (program_course_id, program_enrollment_id, status, course_staff) VALUES ($1, $2, $3, $4)',
      [programCourseId, programEnrollmentId, status, staff ?? false],
    );
  }
}
