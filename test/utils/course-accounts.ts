import { DataSource } from 'typeorm';
import { Project } from '../../src/accounts/projects/project.entity';
import { CourseAccount } from '../../src/course-accounts/course-account.entity';
import { Job } from '../../src/jobs/job.entity';
import { createOrganization, createProject, createUser } from '../factories/accounts';
import { grantRole, orgScope, projectScope } from '../permissions/grants';
import { waitFor } from './jobs-helpers';
import type { TestApp } from './test-app';

export const ds = (t: TestApp) => t.app.get(DataSource);

/** YYYY-MM-DD `days` from today (UTC). */
export function day(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}

/** A live course project ending in 30 days. */
export function createCourse(t: TestApp, organizationId: string, overrides: Partial<Project> = {}): Promise<Project> {
  return createProject(t, organizationId, { kind: 'course', startDate: day(-10), endDate: day(30), ...overrides });
}

/** An organization with a course project and a user managing that project. */
export async function courseWithManager(t: TestApp) {
  const org = await createOrganization(t);
  const project = await createCourse(t, org.id);
  const manager = await createUser(t);
  await grantRole(t, manager.principal, 'project_manager', projectScope(project));
  return { org, project, manager };
}

export async function userWithRole(
  t: TestApp,
  role: string,
  scope: { type: 'organization' | 'project'; id: string; organizationId: string },
) {
  const user = await createUser(t);
  await grantRole(t, user.principal, role, scope);
  return user;
}

export { orgScope, projectScope };

export const account = (t: TestApp, id: string) => ds(t).getRepository(CourseAccount).findOneByOrFail({ id });

/** Waits until the job has finished and returns its row. */
export function jobDone(t: TestApp, id: string, timeoutMs = 30_000): Promise<Job> {
  return waitFor(
    async () => {
      const job = await ds(t).getRepository(Job).findOneByOrFail({ id });
      return ['Succeeded', 'Failed', 'Canceled'].includes(job.state) && job;
    },
    timeoutMs,
    `job ${id} to finish`,
  );
}

/** The job's `result` artifact, parsed. */
export async function jobResult<T = Record<string, unknown>>(t: TestApp, id: string): Promise<T> {
  const [row] = await ds(t).query(`SELECT text FROM job_artifacts WHERE job_id = $1 AND name = 'result'`, [id]);
  return JSON.parse(row.text) as T;
}

/** Audit events of one subject in the order they were written (events of one transaction share occurred_at; the table is append-only, so ctid follows insertion). */
export async function auditActions(
  t: TestApp,
  subjectId: string,
): Promise<{ action: string; data: Record<string, unknown> }[]> {
  return ds(t).query(`SELECT action, data FROM audit_events WHERE subject_id = $1 ORDER BY occurred_at, ctid`, [
    subjectId,
  ]);
}
