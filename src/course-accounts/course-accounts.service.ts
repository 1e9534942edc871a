import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { ProjectSummary } from '../accounts/projects/project.types';
import { ProjectsService } from '../accounts/projects/projects.service';
import type { Principal } from '../common/auth/principal';
import { Listed } from '../common/pagination/pagination';
import { InjectSettings } from '../config/settings.module';
import { Settings } from '../config/settings.schema';
import { TransactionRunner } from '../database/transaction';
import { JobsService } from '../jobs/jobs.service';
import type { AppAbility } from '../permissions/ability';
import { requireAccess, requireEverywhere } from '../permissions/access';
import type { Action } from '../permissions/subjects';
import { CourseAccount } from './course-account.entity';
import { CourseAccountCreation } from './course-account.creation';
import { backendProject, CourseAccountProvisioner } from './course-account.provisioner';
import { CourseAccountRecovery, STALLED_CREATION } from './course-account.recovery';
import { CourseAccountStateMachine } from './course-account.state-machine';
import { CourseAccountError } from './course-accounts.errors';
import { CourseAccountsRepository } from './course-accounts.repository';
import { AccountWithProject, assertProjectOpen } from './course-project';
import { CourseAccountQuery } from './dto/course-account.dto';
import {
  CLOSE_EXPIRED_COURSE_ACCOUNTS_JOB,
  RECONCILE_COURSE_ACCOUNTS_JOB,
  RETRY_COURSE_ACCOUNTS_JOB,
} from './jobs/course-account.jobs';

/** What another module may show of a course account. */
export interface CourseAccountSummary {
  id: string;
  projectId: string;
  state: CourseAccount['state'];
  username: string | null;
  email: string | null;
  errorMessage: string | null;
  expiresAt: Date;
}

function summaryOf(a: CourseAccount): CourseAccountSummary {
  return {
    id: a.id,
    projectId: a.projectId,
    state: a.state,
    username: a.username,
    email: a.email,
    errorMessage: a.errorMessage,
    expiresAt: a.expiresAt,
  };
}

/**
 * Course accounts as callers see them: object checks with the request's ability, lists scoped in
 * SQL, close, retry and the on-demand lifecycle jobs (creation: CourseAccountCreation). Every state
 * change goes through CourseAccountStateMachine.
 */
@Injectable()
export class CourseAccountsService {
  constructor(
    private readonly accounts: CourseAccountsRepository,
    private readonly projects: ProjectsService,
    private readonly jobs: JobsService,
    private readonly machine: CourseAccountStateMachine,
    private readonly provisioner: CourseAccountProvisioner,
    private readonly transactions: TransactionRunner,
    private readonly recovery: CourseAccountRecovery,
    private readonly creation: CourseAccountCreation,
    @InjectSettings() private readonly settings: Settings,
  ) {}

  /** One page of the accounts the ability may read, each with its project. */
  async list(ability: AppAbility, q: CourseAccountQuery): Promise<Listed<AccountWithProject>> {
    const [accounts, count] = await this.accounts.page(ability, q);
    return [await this.withProjects(accounts), count];
  }

  /** An account the caller may read, with its project; 404 otherwise. */
  async get(ability: AppAbility, id: string): Promise<AccountWithProject> {
    const account = await this.accessible(ability, 'read', id);
    const [found] = await this.withProjects([account]);
    return found;
  }

  /** Why a project cannot hold course accounts now (deleted, not a course, no end date, ended), or null when it can. */
  projectProblem(project: ProjectSummary): string | null {
    try {
      assertProjectOpen(project);
      return null;
    } catch (e) {
      if (e instanceof CourseAccountError) return e.code;
      throw e;
    }
  }

  /**
   * A course account for someone in a project, with no access check (the caller decided: an LMS
   * launch whose platform provisions accounts), in `tx`: the project's live account with this
   * e-mail when there is one, else a new PENDING account (and its user), audited as
   * `course_account.requested` by `actor`. Creating it upstream is `completeCreation`, after commit.
   */
  requestInProject(
    project: ProjectSummary,
    request: { email: string | null; description: string },
    actor: Principal | { type: 'system' },
    tx: EntityManager,
  ): Promise<{ id: string; state: CourseAccount['state'] }> {
    return this.creation.requestInProject(project, request, actor, tx);
  }

  /**
   * Creates a PENDING account upstream (`requestInProject` made it): OK, or ERRED with the backend's
   * error. An account no longer PENDING is answered as it is. Never throws for a backend failure.
   */
  async completeCreation(
    id: string,
    actor: Principal | { type: 'system' },
    ownerUsername: string,
  ): Promise<CourseAccountSummary | null> {
    const account = await this.accounts.findById(id);
    if (!account) return null;
    if (account.state !== 'PENDING') return summaryOf(account);
    const [{ project }] = await this.withProjects([account]);
    const { account: after } = await this.provisioner.create(account, backendProject(project), {
      actor,
      ownerUsername,
    });
    return summaryOf(after);
  }

  /**
   * Ids of OK accounts with an e-mail that expire before `before` (and have not yet), up to `limit`
   * after `after` in id order, with no access check: for the expiry notices.
   */
  expiringIds(before: Date, after: string, limit: number): Promise<string[]> {
    return this.accounts.idsAfter(
      `ca.state = 'OK' AND ca.email IS NOT NULL AND ca.expires_at > now() AND ca.expires_at <= $1`,
      [before],
      after,
      limit,
    );
  }

  /** The course account's organization and project for an access check by another module: 404 when hidden. */
  async requireReadable(ability: AppAbility, id: string): Promise<CourseAccountSummary> {
    return summaryOf(await this.accessible(ability, 'read', id));
  }

  /** Course accounts by id, with no access check (the caller shows a user its own), in one query. */
  async findSummaries(ids: readonly string[]): Promise<CourseAccountSummary[]> {
    if (ids.length === 0) return [];
    return (await this.accounts.findByIds([...ids])).map(summaryOf);
  }

  /**
   * Closes upstream, deactivates the user: CLOSED. A refused close leaves the account ERRED and
   * answers 502. A stalled PENDING account (see CourseAccountRecovery) is closed by a job instead,
   * which first confirms or makes it upstream under its idempotency key, so that an account the
   * stalled creation made there is closed too: the job is returned.
   */
  async close(
    who: Principal,
    ability: AppAbility,
    id: string,
  ): Promise<(AccountWithProject & { jobId: string }) | null> {
    const account = await this.accessible(ability, 'close', id);
    if (account.state === 'PENDING') {
      const [{ project }] = await this.withProjects([account]);
      return this.transactions.run(async (tx) => {
        await this.stopStalledCreation(tx, who, id, 'close');
        return this.runFailedStepAgain(tx, who, id, project);
      });
    }
    const { error } = await this.provisioner.close(account, { actor: who, deleted: true });
    if (error) {
      throw new CourseAccountError('backend_error', `The backend could not close the account: ${error.message}`, {
        id,
        state: 'ERRED',
        upstream_status: error.details.status ?? null,
      });
    }
    return null;
  }

  /**
   * ERRED → PENDING, and a job that runs the failed step again. A stalled PENDING account is first
   * recorded ERRED (its creation stopped), then retried the same way.
   */
  async retry(who: Principal, ability: AppAbility, id: string): Promise<AccountWithProject & { jobId: string }> {
    const [{ account, project }] = await this.withProjects([await this.accessible(ability, 'retry', id)]);
    return this.transactions.run(async (tx) => {
      if (account.state === 'PENDING') await this.stopStalledCreation(tx, who, id, account.failedOperation ?? 'create');
      return this.runFailedStepAgain(tx, who, id, project);
    });
  }

  private async runFailedStepAgain(
    tx: EntityManager,
    who: Principal,
    id: string,
    project: ProjectSummary,
  ): Promise<AccountWithProject & { jobId: string }> {
    // What to run again is read from the moved row: a close begun since the caller read it made it `close`.
    const moved = await this.machine.transition(
      id,
      { from: 'ERRED', to: 'PENDING', actor: who, data: (a) => ({ retry: a.failedOperation }) },
      tx,
    );
    const closing = moved.failedOperation === 'close';
    // Creating needs an open project; closing does not. Refused, the move is rolled back.
    if (!closing) assertProjectOpen(project);
    const { id: jobId } = await this.jobs.enqueue(
      RETRY_COURSE_ACCOUNTS_JOB,
      { accountIds: [id], ownerUsername: who.name, closeIds: closing ? [id] : [] },
      { owner: who, organizationId: moved.organizationId, totalSteps: 1 },
      tx,
    );
    return { account: moved, project, jobId };
  }

  /**
   * PENDING → ERRED in `tx` for an account whose creation has stalled, `operation` being the step a
   * retry then runs; 409 `invalid_transition` while a request or job may still be creating it.
   */
  private async stopStalledCreation(
    tx: EntityManager,
    who: Principal,
    id: string,
    operation: 'create' | 'close',
  ): Promise<void> {
    const [stalled] = await this.recovery.claimStalled(tx, { ids: [id], limit: 1 });
    if (!stalled) {
      throw new CourseAccountError(
        'invalid_transition',
        'The account is still being created; it can be retried or closed once no request or job has worked on it for COURSE_ACCOUNTS_PENDING_TIMEOUT_MS.',
        { id, state: 'PENDING', pending_timeout_ms: this.settings.COURSE_ACCOUNTS_PENDING_TIMEOUT_MS },
      );
    }
    await this.machine.transition(
      id,
      {
        from: 'PENDING',
        to: 'ERRED',
        actor: who,
        changes: { errorMessage: STALLED_CREATION, failedOperation: operation },
      },
      tx,
    );
  }

  /**
   * Staff recovery of an ERRED account whose upstream problem was fixed by hand: the backend is asked
   * first, and only an account it has becomes OK (409 `not_on_backend` otherwise: retry it instead).
   * The move is audited with the reason, forgets the error and reactivates the account's user.
   */
  async setOk(who: Principal, ability: AppAbility, id: string, reason: string): Promise<AccountWithProject> {
    const account = await this.accessible(ability, 'read', id);
    requireEverywhere(ability, 'update', 'CourseAccount', 'set a course account OK');
    if (account.state !== 'ERRED') {
      throw new CourseAccountError(
        'invalid_transition',
        `The course account is ${account.state}, not ERRED: it cannot go to OK.`,
        {
          id,
          state: account.state,
          from: 'ERRED',
          to: 'OK',
        },
      );
    }
    const moved = await this.provisioner.recover(account, reason, { actor: who });
    const [found] = await this.withProjects([moved]);
    return found;
  }

  /** Closes expired accounts now instead of at the next daily run: it closes accounts of every organization, so staff only. */
  async startCloseExpired(who: Principal, ability: AppAbility): Promise<string> {
    requireEverywhere(ability, 'close', 'CourseAccount', 'close every expired course account');
    return (await this.jobs.enqueue(CLOSE_EXPIRED_COURSE_ACCOUNTS_JOB, {}, { owner: who })).id;
  }

  /** Checks OK accounts upstream (of one project, or of every organization): staff only. */
  async startReconcile(who: Principal, ability: AppAbility, projectId?: string): Promise<string> {
    requireEverywhere(ability, 'update', 'CourseAccount', 'reconcile course accounts');
    return (await this.jobs.enqueue(RECONCILE_COURSE_ACCOUNTS_JOB, projectId ? { projectId } : {}, { owner: who })).id;
  }

  /** The account, when the ability allows `action` on it: 404 when it is missing or hidden, 403 otherwise. */
  private async accessible(ability: AppAbility, action: Action, id: string): Promise<CourseAccount> {
    const account = await this.accounts.findById(id);
    return requireAccess(ability, action, 'CourseAccount', account, { details: { id } });
  }

  /** The accounts with their projects, read in one query. */
  private async withProjects(accounts: CourseAccount[]): Promise<AccountWithProject[]> {
    const projects = new Map(
      (await this.projects.findSummaries(accounts.map((a) => a.projectId))).map((p) => [p.id, p]),
    );
    return accounts.map((account) => {
      const project = projects.get(account.projectId);
      // The foreign key (ON DELETE RESTRICT) and soft deletion keep every account's project row.
      if (!project) throw new Error(`Course account ${account.id}: project ${account.projectId} not found`);
      return { account, project };
    });
  }
}
