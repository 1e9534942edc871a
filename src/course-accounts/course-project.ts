import type { ProjectSummary } from '../accounts/projects/project.types';
import type { CourseAccount } from './course-account.entity';
import { CourseAccountError } from './course-accounts.errors';

const DAY_MS = 86_400_000;

/** An account with the project it belongs to (read through ProjectsService). */
export interface AccountWithProject {
  account: CourseAccount;
  project: ProjectSummary;
}

/** The instant an account of a project ending on `endDate` expires by default: the end of that day (UTC). */
export function defaultExpiry(endDate: string): Date {
  return new Date(Date.parse(`${endDate}T00:00:00Z`) + DAY_MS);
}

/** 400 unless the project can hold new accounts: a course, with an end date not passed, not deleted. */
export function assertProjectOpen(project: ProjectSummary): void {
  const details = { project: project.id };
  if (project.deletedAt) throw new CourseAccountError('project_deleted', 'The project is deleted.', details);
  if (project.kind !== 'course')
    throw new CourseAccountError('project_not_course', 'Course accounts need a project of kind course.', details);
  if (!project.endDate)
    throw new CourseAccountError('project_without_end_date', 'The course project has no end date.', details);
  if (defaultExpiry(project.endDate).getTime() <= Date.now()) {
    throw new CourseAccountError('project_ended', `The course ended on ${project.endDate}.`, {
      ...details,
      end_date: project.endDate,
    });
  }
}
