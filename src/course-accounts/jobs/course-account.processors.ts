import { AbandonedJob, JobContext, JobProcessor, ProcessesJob } from '../../jobs/processors/job-processor';
import {
  CLOSE_EXPIRED_COURSE_ACCOUNTS_JOB,
  CLOSE_PROJECT_COURSE_ACCOUNTS_JOB,
  CloseExpiredCourseAccountsPayload,
  CloseProjectCourseAccountsPayload,
  CREATE_COURSE_ACCOUNTS_JOB,
  CreateCourseAccountsPayload,
  RECONCILE_COURSE_ACCOUNTS_JOB,
  ReconcileCourseAccountsPayload,
  RETRY_COURSE_ACCOUNTS_JOB,
  RetryCourseAccountsPayload,
} from './course-account.jobs';
import { CourseAccountLifecycle, LifecycleResult } from './course-account.lifecycle';

async function writeResult(ctx: JobContext<object>, result: LifecycleResult): Promise<void> {
  await ctx.writeArtifact('result', JSON.stringify(result), { contentType: 'application/json' });
}

/** Bulk creation (and recovery of accounts stuck PENDING): each account ends OK or ERRED. */
@ProcessesJob(CREATE_COURSE_ACCOUNTS_JOB)
export class CreateCourseAccountsProcessor implements JobProcessor<CreateCourseAccountsPayload> {
  constructor(private readonly lifecycle: CourseAccountLifecycle) {}

  async process(ctx: JobContext<CreateCourseAccountsPayload>): Promise<void> {
    await writeResult(ctx, await this.lifecycle.createAccounts(ctx));
  }

  /** Out of attempts, or canceled before it ran: its accounts still PENDING end ERRED with the reason. */
  abandoned(job: AbandonedJob<CreateCourseAccountsPayload>): Promise<void> {
    return this.lifecycle.releaseAbandoned(job);
  }
}

/** A retried account: its failed step (create, or close) runs again. */
@ProcessesJob(RETRY_COURSE_ACCOUNTS_JOB)
export class RetryCourseAccountsProcessor implements JobProcessor<RetryCourseAccountsPayload> {
  constructor(private readonly lifecycle: CourseAccountLifecycle) {}

  async process(ctx: JobContext<RetryCourseAccountsPayload>): Promise<void> {
    await writeResult(ctx, await this.lifecycle.createAccounts(ctx));
  }

  abandoned(job: AbandonedJob<RetryCourseAccountsPayload>): Promise<void> {
    return this.lifecycle.releaseAbandoned(job);
  }
}

/** Daily, and on demand for staff: closes expired accounts. */
@ProcessesJob(CLOSE_EXPIRED_COURSE_ACCOUNTS_JOB)
export class CloseExpiredCourseAccountsProcessor implements JobProcessor<CloseExpiredCourseAccountsPayload> {
  constructor(private readonly lifecycle: CourseAccountLifecycle) {}

  async process(ctx: JobContext<CloseExpiredCourseAccountsPayload>): Promise<void> {
    await writeResult(ctx, await this.lifecycle.closeExpired(ctx));
  }
}

/** After `project.deleted`: closes every live account of the project. */
@ProcessesJob(CLOSE_PROJECT_COURSE_ACCOUNTS_JOB)
export class CloseProjectCourseAccountsProcessor implements JobProcessor<CloseProjectCourseAccountsPayload> {
  constructor(private readonly lifecycle: CourseAccountLifecycle) {}

  async process(ctx: JobContext<CloseProjectCourseAccountsPayload>): Promise<void> {
    await writeResult(ctx, await this.lifecycle.closeProject(ctx));
  }
}

/** Staff, on demand: OK accounts missing upstream become ERRED. */
@ProcessesJob(RECONCILE_COURSE_ACCOUNTS_JOB)
export class ReconcileCourseAccountsProcessor implements JobProcessor<ReconcileCourseAccountsPayload> {
  constructor(private readonly lifecycle: CourseAccountLifecycle) {}

  async process(ctx: JobContext<ReconcileCourseAccountsPayload>): Promise<void> {
    await writeResult(ctx, await this.lifecycle.reconcile(ctx));
  }
}
