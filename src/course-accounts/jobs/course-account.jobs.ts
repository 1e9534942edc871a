import { defineJob } from '../../jobs/processors/job-definition';

/** Course-account jobs run on their own queue, so a slow backend never holds up other jobs. */
export const COURSE_ACCOUNTS_QUEUE = 'course-accounts';

/** Creates PENDING accounts upstream: a bulk creation, or accounts found stuck PENDING. */
export interface CreateCourseAccountsPayload {
  accountIds: string[];
  /** Who asked for the accounts (`ownerUsername` upstream). */
  ownerUsername: string;
}

/** Runs the failed step of retried accounts again: creation, or creation check then close. */
export interface RetryCourseAccountsPayload {
  accountIds: string[];
  ownerUsername: string;
  /** Accounts whose close had failed: once confirmed (or re-created) upstream, they are closed. */
  closeIds: string[];
}

/** Closes accounts whose expires_at has passed (and any left open in a deleted project). */
export interface CloseExpiredCourseAccountsPayload {
  /** Default: the time the job runs. */
  before?: string;
}

/** Closes every live account of a deleted project. */
export interface CloseProjectCourseAccountsPayload {
  projectId: string;
}

/** Checks OK accounts upstream; those missing there become ERRED. */
export interface ReconcileCourseAccountsPayload {
  projectId?: string;
}

export const CREATE_COURSE_ACCOUNTS_JOB = defineJob<CreateCourseAccountsPayload>('course-accounts.create', {
  queue: COURSE_ACCOUNTS_QUEUE,
});
export const RETRY_COURSE_ACCOUNTS_JOB = defineJob<RetryCourseAccountsPayload>('course-accounts.retry', {
  queue: COURSE_ACCOUNTS_QUEUE,
});
export const CLOSE_EXPIRED_COURSE_ACCOUNTS_JOB = defineJob<CloseExpiredCourseAccountsPayload>(
  'course-accounts.close-expired',
  {
    queue: COURSE_ACCOUNTS_QUEUE,
  },
);
export const CLOSE_PROJECT_COURSE_ACCOUNTS_JOB = defineJob<CloseProjectCourseAccountsPayload>(
  'course-accounts.close-project',
  {
    queue: COURSE_ACCOUNTS_QUEUE,
  },
);
export const RECONCILE_COURSE_ACCOUNTS_JOB = defineJob<ReconcileCourseAccountsPayload>('course-accounts.reconcile', {
  queue: COURSE_ACCOUNTS_QUEUE,
});

/** Owner of the jobs the application starts by itself (the daily expiry, recovery of stuck accounts). */
export const SYSTEM_JOB_OWNER = { type: 'user' as const, id: '00000000-0000-0000-0000-000000000000' };
/** `ownerUsername` of creations the application resumes by itself. */
export const SYSTEM_OWNER_USERNAME = 'campus-access';
