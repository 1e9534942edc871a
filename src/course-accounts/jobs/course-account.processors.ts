import { Inject, Type } from '@nestjs/common';
import type { JobDefinition } from '../../jobs/processors/job-definition';
import { AbandonedJob, JobContext, JobProcessor, ProcessesJob } from '../../jobs/processors/job-processor';
import {
  CLOSE_EXPIRED_COURSE_ACCOUNTS_JOB,
  CLOSE_PROJECT_COURSE_ACCOUNTS_JOB,
  CREATE_COURSE_ACCOUNTS_JOB,
  RECONCILE_COURSE_ACCOUNTS_JOB,
  RETRY_COURSE_ACCOUNTS_JOB,
} from './course-account.jobs';
import { CourseAccountLifecycle } from './course-account.lifecycle';
import type { LifecycleResult } from './lifecycle-result';

/**
 * The processor of one course-account job: runs its lifecycle step and writes what it did as the
 * job's `result` artifact. Every course-account job is one of these, so they differ only in the step.
 */
function lifecycleProcessor<P extends object>(
  name: string,
  job: JobDefinition<P>,
  step: (lifecycle: CourseAccountLifecycle, ctx: JobContext<P>) => Promise<LifecycleResult>,
  abandoned?: (lifecycle: CourseAccountLifecycle, job: AbandonedJob<P>) => Promise<void>,
): Type<JobProcessor<P>> {
  @ProcessesJob(job as JobDefinition<object>)
  class LifecycleProcessor implements JobProcessor<P> {
    constructor(@Inject(CourseAccountLifecycle) private readonly lifecycle: CourseAccountLifecycle) {}

    async process(ctx: JobContext<P>): Promise<void> {
      const result = await step(this.lifecycle, ctx);
      await ctx.writeArtifact('result', JSON.stringify(result), { contentType: 'application/json' });
    }

    /** Out of attempts, or canceled before it ran: what the step left unfinished is released (creation jobs). */
    async abandoned(stopped: AbandonedJob<P>): Promise<void> {
      await abandoned?.(this.lifecycle, stopped);
    }
  }
  Object.defineProperty(LifecycleProcessor, 'name', { value: name });
  return LifecycleProcessor;
}

/** Bulk creation (and recovery of accounts stuck PENDING): each account ends OK or ERRED. */
export const CreateCourseAccountsProcessor = lifecycleProcessor(
  'CreateCourseAccountsProcessor',
  CREATE_COURSE_ACCOUNTS_JOB,
  (lifecycle, ctx) => lifecycle.createAccounts(ctx),
  // Out of attempts, or canceled before it ran: its accounts still PENDING end ERRED with the reason.
  (lifecycle, job) => lifecycle.releaseAbandoned(job),
);

/** A retried account: its failed step (create, or close) runs again — the creation's code, with closes after. */
export const RetryCourseAccountsProcessor = lifecycleProcessor(
  'RetryCourseAccountsProcessor',
  RETRY_COURSE_ACCOUNTS_JOB,
  (lifecycle, ctx) => lifecycle.createAccounts(ctx),
  (lifecycle, job) => lifecycle.releaseAbandoned(job),
);

/** Daily, and on demand for staff: closes expired accounts. */
export const CloseExpiredCourseAccountsProcessor = lifecycleProcessor(
  'CloseExpiredCourseAccountsProcessor',
  CLOSE_EXPIRED_COURSE_ACCOUNTS_JOB,
  (lifecycle, ctx) => lifecycle.closeExpired(ctx),
);

/** After `project.deleted`: closes every live account of the project. */
export const CloseProjectCourseAccountsProcessor = lifecycleProcessor(
  'CloseProjectCourseAccountsProcessor',
  CLOSE_PROJECT_COURSE_ACCOUNTS_JOB,
  (lifecycle, ctx) => lifecycle.closeProject(ctx),
);

/** Staff, on demand: OK accounts missing upstream become ERRED. */
export const ReconcileCourseAccountsProcessor = lifecycleProcessor(
  'ReconcileCourseAccountsProcessor',
  RECONCILE_COURSE_ACCOUNTS_JOB,
  (lifecycle, ctx) => lifecycle.reconcile(ctx),
);
