import { Injectable, Logger } from '@nestjs/common';
import type { ProjectSummary } from '../../accounts/projects/project.types';
import { ProjectsService } from '../../accounts/projects/projects.service';
import { InjectSettings } from '../../config/settings.module';
import { Settings } from '../../config/settings.schema';
import { forEachBounded } from '../../common/concurrency/for-each-bounded';
import { type AbandonedJob, JobCanceledSignal, type JobContext } from '../../jobs/processors/job-processor';
import { ProgressReporter } from '../../jobs/processors/progress-reporter';
import { CourseAccountBackendError } from '../backends/course-account-backend';
import { CourseAccount } from '../course-account.entity';
import {
  backendProject,
  CourseAccountProvisioner,
  CreatedAccount,
  OperationContext,
  Outcome,
} from '../course-account.provisioner';
import { CourseAccountStateMachine } from '../course-account.state-machine';
import { CourseAccountsRepository } from '../course-accounts.repository';
import { CourseAccountError } from '../course-accounts.errors';
import { MicroBatcher } from '../../common/batching/micro-batcher';
import { defaultExpiry } from '../course-project';
import type {
  CloseExpiredCourseAccountsPayload,
  CloseProjectCourseAccountsPayload,
  CreateCourseAccountsPayload,
  ReconcileCourseAccountsPayload,
  RetryCourseAccountsPayload,
} from './course-account.jobs';
import { jobActor } from './job-actor';
import { LifecycleResult, Tally } from './lifecycle-result';

const CANCELED_BEFORE_DONE = 'The job was canceled before this account was done.';
/** How many accounts the close and reconcile jobs load at a time. */
const BATCH = 500;
/** Lanes with the mock backend (see `concurrency`). */
const MOCK_LANES = 64;

function projectClosedReason(project: ProjectSummary): string | null {
  if (project.deletedAt) return 'The project was deleted before the account was created.';
  if (project.endDate && defaultExpiry(project.endDate).getTime() <= Date.now())
    return `The course ended on ${project.endDate} before the account was created.`;
  return null;
}

/**
 * The work of the course-account jobs: creating PENDING accounts upstream (bulk, retries, stuck
 * ones), closing expired accounts and those of deleted projects, and reconciling with the backend.
 * Each run is idempotent: it works only on accounts still in the state it expects, so a job run
 * again after a crash finishes what the first run left.
 */
@Injectable()
export class CourseAccountLifecycle {
  private readonly logger = new Logger('CourseAccounts');

  constructor(
    private readonly accounts: CourseAccountsRepository,
    private readonly provisioner: CourseAccountProvisioner,
    private readonly machine: CourseAccountStateMachine,
    private readonly projects: ProjectsService,
    @InjectSettings() private readonly settings: Settings,
  ) {}

  /**
   * Accounts worked on at once. The mock backend makes no network calls and batches concurrent
   * creations into one statement, so more lanes only mean bigger batches.
   */
  private get concurrency(): number {
    const configured = this.settings.COURSE_ACCOUNTS_CONCURRENCY;
    if (this.provisioner.backend.kind === 'mock') return Math.max(configured, MOCK_LANES);
    // Array creations: enough accounts in flight to fill two calls of COURSE_ACCOUNTS_BATCH_SIZE.
    const batch = this.settings.COURSE_ACCOUNTS_BATCH_SIZE;
    return batch > 1 ? Math.max(configured, 2 * batch) : configured;
  }

  /** Creates the job's PENDING accounts upstream; for retries, then closes those whose close had failed. */
  async createAccounts(
    ctx: JobContext<CreateCourseAccountsPayload | RetryCourseAccountsPayload>,
  ): Promise<LifecycleResult> {
    const { accountIds } = ctx.payload;
    const run = await this.startCreation(ctx);
    try {
      const work = await this.stopBlocked(run);
      const { tokenFailure, untried } = await this.createEach(run, work);
      if (tokenFailure && untried.length) await this.failUntried(run, untried, tokenFailure);
    } catch (e) {
      if (e instanceof JobCanceledSignal)
        await this.abandonPending(accountIds, run.closeAfter, run.op.actor, CANCELED_BEFORE_DONE);
      throw e;
    }
    await run.progress.finish();
    return run.tally.result(accountIds.length);
  }

  /** The job's accounts still to do (PENDING, or OK with a close to run again), their projects, and the run's bookkeeping. */
  private async startCreation(
    ctx: JobContext<CreateCourseAccountsPayload | RetryCourseAccountsPayload>,
  ): Promise<CreationRun> {
    const { accountIds, ownerUsername } = ctx.payload;
    const closeAfter = new Set('closeIds' in ctx.payload ? ctx.payload.closeIds : []);
    const actor = jobActor(ctx);
    // OK moves of concurrent creations commit together; one flush at a time, the next one gathers what came meanwhile.
    const created = new MicroBatcher<CreatedAccount, CourseAccount | undefined>(
      async (items) => {
        const moved = new Map((await this.machine.markCreated(items, actor)).map((a) => [a.id, a]));
        return items.map((c) => moved.get(c.id));
      },
      100,
      1,
    );
    // No abort signal: a canceled or stopping job lets the calls in flight finish (each bounded by
    // COURSE_ACCOUNTS_TIMEOUT_MS) and records what they did, so nothing exists upstream unrecorded.
    const op: OperationContext = { actor, ownerUsername, commitCreated: (c) => created.add(c) };
    const accounts = await this.accounts.findByIds(accountIds);
    const projects = new Map(
      (await this.projects.findSummaries(accounts.map((a) => a.projectId))).map((p) => [p.id, p]),
    );
    const todo = accounts.filter((a) => a.state === 'PENDING' || (a.state === 'OK' && closeAfter.has(a.id)));
    const progress = new ProgressReporter(ctx, accountIds.length, accountIds.length - todo.length);
    await progress.start();
    return { op, closeAfter, todo, projectOf: (a) => projects.get(a.projectId)!, tally: new Tally(), progress };
  }

  /** Accounts of a project deleted (or ended) meanwhile are not created: ERRED. Returns the accounts left to do. */
  private async stopBlocked(run: CreationRun): Promise<CourseAccount[]> {
    const reason = (a: CourseAccount) =>
      a.state === 'PENDING' && !run.closeAfter.has(a.id) ? projectClosedReason(run.projectOf(a)) : null;
    const blocked = run.todo.filter((a) => reason(a));
    for (const a of blocked) {
      await this.machine.transitionMany([a.id], {
        from: 'PENDING',
        to: 'ERRED',
        actor: run.op.actor,
        changes: { errorMessage: reason(a)!, failedOperation: 'create' },
      });
      run.tally.add('erred');
      run.tally.fail(a, reason(a)!);
    }
    await run.progress.step(blocked.length);
    return run.todo.filter((a) => !blocked.includes(a));
  }

  /**
   * Creates (and, for retried closes, closes) each account, COURSE_ACCOUNTS_CONCURRENCY at once.
   * Without a token no creation can succeed: after a token failure the PENDING accounts not yet
   * tried are returned untried.
   */
  private async createEach(
    run: CreationRun,
    work: CourseAccount[],
  ): Promise<{ tokenFailure?: CourseAccountBackendError; untried: CourseAccount[] }> {
    let tokenFailure: CourseAccountBackendError | undefined;
    const untried: CourseAccount[] = [];
    await forEachBounded(work, this.concurrency, async (account) => {
      if (tokenFailure && account.state === 'PENDING') {
        untried.push(account);
        return;
      }
      let outcome: Outcome = { account };
      if (account.state === 'PENDING' && run.closeAfter.has(account.id) && account.username) {
        // A retried close: the account was made upstream before; back to OK without creating
        // anything, and the close below finds out whether it is still there.
        const [moved] = await this.machine.markCreated(
          [{ id: account.id, username: account.username, backendId: account.backendId ?? account.username }],
          run.op.actor,
        );
        outcome = { account: moved ?? (await this.accounts.getById(account.id)) };
      } else if (account.state === 'PENDING') {
        outcome = await this.provisioner.create(account, backendProject(run.projectOf(account)), run.op);
        if (outcome.error?.details.stage === 'token') tokenFailure ??= outcome.error;
      }
      if (!outcome.error && outcome.account.state === 'OK' && run.closeAfter.has(account.id)) {
        outcome = await this.provisioner.close(outcome.account, run.op);
      }
      run.tally.count(outcome.account, outcome.error);
      await run.progress.step();
    });
    return { tokenFailure, untried };
  }

  /** The accounts a token failure left untried end ERRED with that error instead of asking again per row. */
  private async failUntried(
    run: CreationRun,
    untried: CourseAccount[],
    tokenFailure: CourseAccountBackendError,
  ): Promise<void> {
    const moved = await this.machine.transitionMany(
      untried.map((a) => a.id),
      {
        from: 'PENDING',
        to: 'ERRED',
        actor: run.op.actor,
        changes: {
          errorMessage: tokenFailure.message,
          errorTraceback: tokenFailure.traceback,
          failedOperation: 'create',
        },
      },
    );
    for (const a of moved) {
      run.tally.add('erred');
      run.tally.fail(a, tokenFailure.message);
    }
    await run.progress.step(untried.length);
  }

  /** Closes every OK or ERRED account past its expiry or its project's end, or left open in a deleted project. */
  async closeExpired(ctx: JobContext<CloseExpiredCourseAccountsPayload>): Promise<LifecycleResult> {
    const before = ctx.payload.before ? new Date(ctx.payload.before) : new Date();
    return this.closeWhere(
      ctx,
      // The project's end date counts too: an account never outlives it, even after the date moved earlier.
      `ca.state IN ('OK', 'ERRED') AND (ca.expires_at <= $1 OR ${this.projects.closedAtSql('ca.project_id', '$1')})`,
      [before],
    );
  }

  /** Closes every live account of a deleted project; accounts still PENDING are stopped first. */
  async closeProject(ctx: JobContext<CloseProjectCourseAccountsPayload>): Promise<LifecycleResult> {
    const { projectId } = ctx.payload;
    await this.machine.transitionMany(await this.accounts.pendingIdsOf(projectId), {
      from: 'PENDING',
      to: 'ERRED',
      actor: jobActor(ctx),
      changes: { errorMessage: 'The project was deleted before the account was created.', failedOperation: 'create' },
    });
    return this.closeWhere(ctx, `ca.project_id = $1 AND ca.state IN ('OK', 'ERRED')`, [projectId]);
  }

  /** OK accounts the backend no longer has become ERRED "missing on backend". */
  async reconcile(ctx: JobContext<ReconcileCourseAccountsPayload>): Promise<LifecycleResult> {
    const where = ctx.payload.projectId
      ? `ca.state = 'OK' AND ca.project_id = $1`
      : `ca.state = 'OK' AND $1::uuid IS NULL`;
    const tally = new Tally();
    const op = { actor: jobActor(ctx) };
    const total = await this.eachBatch(ctx, where, [ctx.payload.projectId ?? null], async (account, progress) => {
      try {
        const found = await this.provisioner.reconcile(account, op);
        tally.add(found === 'missing' ? 'missing' : 'ok');
        if (found === 'missing') tally.fail(account, 'missing on backend');
      } catch (e) {
        if (!(e instanceof CourseAccountBackendError)) throw e;
        tally.fail(account, `Could not check the account: ${e.message}`);
      }
      await progress.step();
    });
    return tally.result(total);
  }

  /** Closes the accounts matching `where` (on alias `ca`), going on past failures, which the result lists. */
  private async closeWhere(ctx: JobContext<object>, where: string, params: unknown[]): Promise<LifecycleResult> {
    const tally = new Tally();
    const op = { actor: jobActor(ctx) };
    const total = await this.eachBatch(ctx, where, params, async (account, progress) => {
      try {
        const outcome = await this.provisioner.close(account, op);
        tally.count(outcome.account, outcome.error);
      } catch (e) {
        // Moved by someone else meanwhile (closed by a user, retried): nothing left to do here.
        if (!(e instanceof CourseAccountError && e.code === 'invalid_transition')) throw e;
      }
      await progress.step();
    });
    return tally.result(total);
  }

  /**
   * Calls `work` for every account matching `where`, in id order and batches of BATCH, with
   * COURSE_ACCOUNTS_CONCURRENCY at once. Accounts a failure leaves matching are not visited twice.
   */
  private async eachBatch(
    ctx: JobContext<object>,
    where: string,
    params: unknown[],
    work: (account: CourseAccount, progress: ProgressReporter) => Promise<void>,
  ): Promise<number> {
    const n = await this.accounts.count(where, params);
    const progress = new ProgressReporter(ctx, n);
    await progress.start();
    let after = '00000000-0000-0000-0000-000000000000';
    for (;;) {
      const ids = await this.accounts.idsAfter(where, params, after, BATCH);
      if (ids.length === 0) break;
      after = ids[ids.length - 1];
      const accounts = await this.accounts.findByIds(ids, 'id');
      await forEachBounded(accounts, this.concurrency, (account) => work(account, progress));
    }
    await progress.finish();
    return n;
  }

  /**
   * A creation job that ended Failed, or Canceled before a run saw the cancel, leaves no account
   * PENDING: those not done yet end ERRED with the reason (and can be retried).
   */
  async releaseAbandoned(job: AbandonedJob<CreateCourseAccountsPayload | RetryCourseAccountsPayload>): Promise<void> {
    const closeAfter = new Set('closeIds' in job.payload ? job.payload.closeIds : []);
    const message =
      job.state === 'Failed'
        ? `The creation job failed: ${job.error ?? 'no error was recorded'}`
        : CANCELED_BEFORE_DONE;
    await this.abandonPending(job.payload.accountIds, closeAfter, jobActor(job), message);
  }

  /** Accounts of a stopped creation that are still PENDING end ERRED with `message` (and can be retried). */
  private async abandonPending(
    ids: string[],
    closeAfter: Set<string>,
    actor: OperationContext['actor'],
    message: string,
  ): Promise<void> {
    try {
      const closing = ids.filter((id) => closeAfter.has(id));
      const creating = ids.filter((id) => !closeAfter.has(id));
      await this.machine.transitionMany(creating, {
        from: 'PENDING',
        to: 'ERRED',
        actor,
        changes: { errorMessage: message, failedOperation: 'create' },
      });
      await this.machine.transitionMany(closing, {
        from: 'PENDING',
        to: 'ERRED',
        actor,
        changes: { errorMessage: message, failedOperation: 'close' },
      });
    } catch (e) {
      this.logger.warn(`Could not mark the accounts of a stopped creation ERRED: ${(e as Error).message}`);
    }
  }
}

/** One creation job's run: what it works on and what it has done so far. */
interface CreationRun {
  op: OperationContext;
  /** Accounts whose failed close is run again once they are OK. */
  closeAfter: Set<string>;
  todo: CourseAccount[];
  projectOf: (account: CourseAccount) => ProjectSummary;
  tally: Tally;
  progress: ProgressReporter;
}
