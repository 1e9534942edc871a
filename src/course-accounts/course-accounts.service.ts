import { Injectable } from '@nestjs/common';
import { requireAccess } from '../permissions/access';
import { containsPattern } from '../common/sql/contains-pattern';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager, In } from 'typeorm';
import { AuditService } from '../accounts/audit/audit.service';
import type { ProjectSummary } from '../accounts/projects/project.types';
import { ProjectsService } from '../accounts/projects/projects.service';
import { UsersService } from '../accounts/users/users.service';
import type { Principal } from '../common/auth/principal';
import { isUniqueViolation } from '../common/errors/database-errors';
import { pageWindow } from '../common/pagination/pagination';
import { JobsService } from '../jobs/jobs.service';
import { AppAbility, asSubject } from '../permissions/ability';
import { scopeToAbility } from '../permissions/ability-to-sql';
import { CourseAccount } from './course-account.entity';
import { backendProject, CourseAccountProvisioner } from './course-account.provisioner';
import { CourseAccountStateMachine } from './course-account.state-machine';
import { CourseAccountError } from './course-accounts.errors';
import { selectRows } from './course-accounts.sql';
import {
  BulkCreateCourseAccountsDto,
  CourseAccountQuery,
  CreateCourseAccountDto,
  SkippedRow,
} from './dto/course-account.dto';
import {
  CLOSE_EXPIRED_COURSE_ACCOUNTS_JOB,
  CREATE_COURSE_ACCOUNTS_JOB,
  RECONCILE_COURSE_ACCOUNTS_JOB,
  RETRY_COURSE_ACCOUNTS_JOB,
} from './jobs/course-account.jobs';

const DAY_MS = 86_400_000;
/** Rows per multi-row INSERT: 12 parameters a row stays far under PostgreSQL's 65,535. */
const INSERT_CHUNK = 500;

const ORDER_COLUMNS = {
  created: 'ca.created_at',
  username: 'ca.username',
  state: 'ca.state',
  project_end_date: 'p.end_date',
} as const;

/** The instant an account of a project ending on `endDate` expires by default: the end of that day (UTC). */
export function defaultExpiry(endDate: string): Date {
  return new Date(Date.parse(`${endDate}T00:00:00Z`) + DAY_MS);
}

/** An account with the project it belongs to (read through ProjectsService). */
export interface AccountWithProject {
  account: CourseAccount;
  project: ProjectSummary;
}

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

export interface BulkCreated {
  jobId: string | null;
  accounts: CourseAccount[];
  project: ProjectSummary;
  skipped: SkippedRow[];
}

/**
 * Course accounts as callers see them: object checks with the request's ability, lists scoped in
 * SQL, creation (single within the request, bulk as a job), close, retry and the on-demand
 * lifecycle jobs. Every state change goes through CourseAccountStateMachine.
 */
@Injectable()
export class CourseAccountsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly users: UsersService,
    private readonly projects: ProjectsService,
    private readonly audit: AuditService,
    private readonly jobs: JobsService,
    private readonly machine: CourseAccountStateMachine,
    private readonly provisioner: CourseAccountProvisioner,
  ) {}

  async list(ability: AppAbility, q: CourseAccountQuery): Promise<[AccountWithProject[], number]> {
    const { offset, pageSize } = pageWindow(q);
    // The project's dates filter and order in SQL; the page's projects are then read through ProjectsService.
    const qb = this.db
      .getRepository(CourseAccount)
      .createQueryBuilder('ca')
      .innerJoin('projects', 'p', 'p.id = ca.project_id');
    scopeToAbility(qb, ability, 'read', 'CourseAccount', 'ca');
    if (q.username) qb.andWhere(`ca.username ILIKE :username`, { username: containsPattern(q.username) });
    if (q.email) qb.andWhere(`ca.email ILIKE :email`, { email: containsPattern(q.email) });
    if (q.state?.length) qb.andWhere('ca.state IN (:...states)', { states: q.state });
    if (q.project) qb.andWhere('ca.project_id = :project', { project: q.project });
    if (q.organization) qb.andWhere('ca.organization_id = :organization', { organization: q.organization });
    if (q.project_start_date_after)
      qb.andWhere('p.start_date >= :startAfter', { startAfter: q.project_start_date_after });
    if (q.project_start_date_before)
      qb.andWhere('p.start_date <= :startBefore', { startBefore: q.project_start_date_before });
    if (q.project_end_date_after) qb.andWhere('p.end_date >= :endAfter', { endAfter: q.project_end_date_after });
    if (q.project_end_date_before) qb.andWhere('p.end_date <= :endBefore', { endBefore: q.project_end_date_before });
    const ordering = q.ordering ?? '-created';
    const direction = ordering.startsWith('-') ? 'DESC' : 'ASC';
    const column = ORDER_COLUMNS[ordering.replace(/^-/, '') as keyof typeof ORDER_COLUMNS];
    qb.orderBy(column, direction, direction === 'ASC' ? 'NULLS LAST' : 'NULLS FIRST').addOrderBy('ca.id', direction);
    const [accounts, count] = await qb.offset(offset).limit(pageSize).getManyAndCount();
    return [await this.withProjects(accounts), count];
  }

  /** An account the caller may read, with its project; 404 otherwise. */
  async get(ability: AppAbility, id: string): Promise<AccountWithProject> {
    const account = await this.db.getRepository(CourseAccount).findOneBy({ id });
    // One the caller cannot read answers exactly like one that does not exist.
    if (!account || !ability.can('read', asSubject('CourseAccount', account))) {
      throw new CourseAccountError('not_found', 'Course account not found.', { id });
    }
    const [found] = await this.withProjects([account]);
    return found;
  }

  /** Creates the account and its user, then the account upstream within the request: OK, or ERRED with the backend's error. */
  async create(who: Principal, ability: AppAbility, dto: CreateCourseAccountDto): Promise<AccountWithProject> {
    const project = await this.usableProject(ability, dto.project);
    const expiresAt = this.expiry(project, dto.expires_at);
    const email = dto.email?.trim() || null;
    const account = await this.insertInTransaction(async (tx) => {
      await this.lockProject(tx, project.id);
      await this.assertStillOpen(tx, project.id);
      if (email) {
        const [existing] = await this.liveAccountsWithEmails(tx, project.id, [email]);
        if (existing) {
          throw new CourseAccountError(
            'duplicate_account',
            `The project already has a live course account for ${email}.`,
            { account: existing.id, email },
          );
        }
      }
      const [created] = await this.insertAccounts(
        tx,
        project,
        [{ email, description: dto.description ?? '' }],
        expiresAt,
      );
      await this.audit.record(
        {
          action: 'course_account.requested',
          actor: who,
          subjectType: 'CourseAccount',
          subjectId: created.id,
          organizationId: project.organizationId,
          data: { project: project.id, email },
        },
        tx,
      );
      return created;
    });
    const { account: after } = await this.provisioner.create(account, backendProject(project), {
      actor: who,
      ownerUsername: who.name,
    });
    return { account: after, project };
  }

  /**
   * Validated rows (the DTO refuses an invalid body whole) become PENDING accounts in one
   * transaction with the job that creates them upstream; duplicates are skipped and reported.
   */
  async bulkCreate(who: Principal, ability: AppAbility, dto: BulkCreateCourseAccountsDto): Promise<BulkCreated> {
    const project = await this.usableProject(ability, dto.project);
    const expiresAt = this.expiry(project, dto.expires_at);
    const skipped: SkippedRow[] = [];
    const firstRow = new Map<string, number>();
    const wanted: { row: number; email: string; description: string }[] = [];
    dto.course_accounts.forEach((r, row) => {
      const email = r.email.trim();
      const earlier = firstRow.get(email.toLowerCase());
      if (earlier !== undefined) {
        skipped.push({ row, email, reason: 'duplicate_in_request', duplicate_of: earlier });
        return;
      }
      firstRow.set(email.toLowerCase(), row);
      wanted.push({ row, email, description: r.description ?? '' });
    });
    return this.insertInTransaction(async (tx) => {
      await this.lockProject(tx, project.id);
      await this.assertStillOpen(tx, project.id);
      const live = new Map(
        (
          await this.liveAccountsWithEmails(
            tx,
            project.id,
            wanted.map((w) => w.email),
          )
        ).map((a) => [a.email.toLowerCase(), a.id]),
      );
      const fresh = wanted.filter((w) => {
        const existing = live.get(w.email.toLowerCase());
        if (existing) skipped.push({ row: w.row, email: w.email, reason: 'account_exists', account: existing });
        return !existing;
      });
      skipped.sort((a, b) => a.row - b.row);
      if (fresh.length === 0) return { jobId: null, accounts: [], project, skipped };
      const accounts = await this.insertAccounts(tx, project, fresh, expiresAt);
      const { id: jobId } = await this.jobs.enqueue(
        CREATE_COURSE_ACCOUNTS_JOB,
        { accountIds: accounts.map((a) => a.id), ownerUsername: who.name },
        { owner: who, organizationId: project.organizationId, totalSteps: accounts.length },
        tx,
      );
      await this.audit.record(
        {
          action: 'course_account.bulk_requested',
          actor: who,
          subjectType: 'Project',
          subjectId: project.id,
          organizationId: project.organizationId,
          data: { job_id: jobId, accounts: accounts.map((a) => a.id), skipped: skipped.length },
        },
        tx,
      );
      return { jobId, accounts, project, skipped };
    });
  }

  /** Why a project cannot hold course accounts now (deleted, not a course, no end date, ended), or null when it can. */
  projectProblem(project: ProjectSummary): string | null {
    try {
      this.assertProjectOpen(project);
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
  async requestInProject(
    project: ProjectSummary,
    request: { email: string | null; description: string },
    actor: Principal | { type: 'system' },
    tx: EntityManager,
  ): Promise<{ id: string; state: CourseAccount['state'] }> {
    await this.lockProject(tx, project.id);
    await this.assertStillOpen(tx, project.id);
    if (request.email) {
      const [existing] = await selectRows<{ id: string; state: CourseAccount['state'] }>(
        tx,
        `SELECT id, state FROM course_accounts WHERE project_id = $1 AND state <> 'CLOSED' AND lower(email) = lower($2)`,
        [project.id, request.email],
      );
      if (existing) return existing;
    }
    const [created] = await this.insertAccounts(tx, project, [request], defaultExpiry(project.endDate!));
    await this.audit.record(
      {
        action: 'course_account.requested',
        actor,
        subjectType: 'CourseAccount',
        subjectId: created.id,
        organizationId: project.organizationId,
        data: { project: project.id, email: request.email },
      },
      tx,
    );
    return { id: created.id, state: created.state };
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
    const account = await this.db.getRepository(CourseAccount).findOneBy({ id });
    if (!account) return null;
    if (account.state !== 'PENDING') return summaryOf(account);
    const [project] = await this.projects.findManyForCourseAccounts([account.projectId]);
    const { account: after } = await this.provisioner.create(account, backendProject(project), {
      actor,
      ownerUsername,
    });
    return summaryOf(after);
  }

  /** Course accounts by id, with no access check (the caller shows a user its own), in one query. */
  async findSummaries(ids: readonly string[]): Promise<CourseAccountSummary[]> {
    if (ids.length === 0) return [];
    const rows = await this.db.getRepository(CourseAccount).findBy({ id: In([...ids]) });
    return rows.map(summaryOf);
  }

  /** Closes upstream, deactivates the user: CLOSED. A refused close leaves the account ERRED and answers 502. */
  async close(who: Principal, ability: AppAbility, id: string): Promise<void> {
    const { account } = await this.get(ability, id);
    requireAccess(ability, 'close', 'CourseAccount', account);
    const { error } = await this.provisioner.close(account, { actor: who });
    if (error) {
      throw new CourseAccountError('backend_error', `The backend could not close the account: ${error.message}`, {
        id,
        state: 'ERRED',
        upstream_status: error.details.status ?? null,
      });
    }
  }

  /** ERRED → PENDING, and a job that runs the failed step again. */
  async retry(who: Principal, ability: AppAbility, id: string): Promise<AccountWithProject & { jobId: string }> {
    const { account, project } = await this.get(ability, id);
    requireAccess(ability, 'retry', 'CourseAccount', account);
    return this.db.transaction(async (tx) => {
      // What to run again is read from the moved row: a close begun since the read above made it `close`.
      const moved = await this.machine.transition(
        id,
        { from: 'ERRED', to: 'PENDING', actor: who, data: (a) => ({ retry: a.failedOperation }) },
        tx,
      );
      const closing = moved.failedOperation === 'close';
      // Creating needs an open project; closing does not. Refused, the move is rolled back.
      if (!closing) this.assertProjectOpen(project);
      const { id: jobId } = await this.jobs.enqueue(
        RETRY_COURSE_ACCOUNTS_JOB,
        { accountIds: [id], ownerUsername: who.name, closeIds: closing ? [id] : [] },
        { owner: who, organizationId: account.organizationId, totalSteps: 1 },
        tx,
      );
      return { account: moved, project, jobId };
    });
  }

  /** Staff: closes expired accounts now instead of at the next daily run. */
  async startCloseExpired(who: Principal): Promise<string> {
    this.assertStaff(who);
    return (await this.jobs.enqueue(CLOSE_EXPIRED_COURSE_ACCOUNTS_JOB, {}, { owner: who })).id;
  }

  /** Staff: checks every OK account upstream. */
  async startReconcile(who: Principal, projectId?: string): Promise<string> {
    this.assertStaff(who);
    return (await this.jobs.enqueue(RECONCILE_COURSE_ACCOUNTS_JOB, projectId ? { projectId } : {}, { owner: who })).id;
  }

  private assertStaff(who: Principal): void {
    if (!who.isStaff) throw new CourseAccountError('forbidden', 'Only staff may start this job.');
  }

  /**
   * The project for a new account: 404 when the caller cannot see it, 403 when it may not create
   * accounts in it, 400 when it cannot hold accounts (not a course, no end date, ended, deleted).
   */
  private async usableProject(ability: AppAbility, projectId: string): Promise<ProjectSummary> {
    const project = await this.projects.findForCourseAccounts(projectId);
    if (
      !project ||
      !ability.can('read', asSubject('Project', { id: project.id, organizationId: project.organizationId }))
    ) {
      throw new CourseAccountError('project_not_found', 'Project not found.', { project: projectId });
    }
    if (
      !ability.can(
        'create',
        asSubject('CourseAccount', { organizationId: project.organizationId, projectId: project.id }),
      )
    ) {
      throw new CourseAccountError('forbidden', 'You may not create course accounts in this project.', {
        project: projectId,
      });
    }
    this.assertProjectOpen(project);
    return project;
  }

  private assertProjectOpen(project: ProjectSummary): void {
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

  private expiry(project: ProjectSummary, requested: string | undefined): Date {
    const latest = defaultExpiry(project.endDate!);
    if (requested === undefined) return latest;
    const at = new Date(requested);
    if (at.getTime() <= Date.now() || at.getTime() > latest.getTime()) {
      throw new CourseAccountError(
        'invalid_expiry',
        `expires_at must be in the future and no later than the end of ${project.endDate}.`,
        {
          expires_at: requested,
          latest: latest.toISOString(),
        },
      );
    }
    return at;
  }

  /** The accounts with their projects, read in one query. */
  private async withProjects(accounts: CourseAccount[]): Promise<AccountWithProject[]> {
    const projects = new Map(
      (await this.projects.findManyForCourseAccounts(accounts.map((a) => a.projectId))).map((p) => [p.id, p]),
    );
    return accounts.map((account) => {
      const project = projects.get(account.projectId);
      // The foreign key (ON DELETE RESTRICT) and soft deletion keep every account's project row.
      if (!project) throw new Error(`Course account ${account.id}: project ${account.projectId} not found`);
      return { account, project };
    });
  }

  /** Serializes creations in one project, so the duplicate check and the insert see the same rows. */
  private async lockProject(tx: EntityManager, projectId: string): Promise<void> {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext('course_accounts:' || $1))`, [projectId]);
  }

  /**
   * Reads the project again in the creating transaction, locked until it commits: a deletion that
   * came first is refused here (400 project_deleted), and one that comes later waits and then sees
   * the new accounts, which it closes.
   */
  private async assertStillOpen(tx: EntityManager, projectId: string): Promise<void> {
    const project = await this.projects.lockForCourseAccounts(projectId, tx);
    if (!project) throw new CourseAccountError('project_not_found', 'Project not found.', { project: projectId });
    this.assertProjectOpen(project);
  }

  private liveAccountsWithEmails(
    tx: EntityManager,
    projectId: string,
    emails: string[],
  ): Promise<{ id: string; email: string }[]> {
    if (emails.length === 0) return Promise.resolve([]);
    return selectRows(
      tx,
      `SELECT id, email FROM course_accounts WHERE project_id = $1 AND state <> 'CLOSED' AND lower(email) = ANY($2::text[])`,
      [projectId, emails.map((e) => e.toLowerCase())],
    );
  }

  /**
   * A user of kind course_account per account ("Course Account", username
   * `course-account-<account id>`), then the PENDING accounts: multi-row inserts for both, since a
   * bulk creation of 1,000 accounts would otherwise spend most of its time on single-row inserts.
   */
  private async insertAccounts(
    tx: EntityManager,
    project: ProjectSummary,
    rows: { email: string | null; description: string }[],
    expiresAt: Date,
  ): Promise<CourseAccount[]> {
    const ids = rows.map(() => randomUUID());
    const userIds = await this.users.insertMany(
      rows.map((row, i) => ({
        username: `course-account-${ids[i]}`,
        email: row.email,
        firstName: 'Course',
        lastName: 'Account',
        organizationId: project.organizationId,
        kind: 'course_account',
        source: 'course-accounts',
      })),
      tx,
    );
    const accounts = rows.map((row, i) =>
      tx.create(CourseAccount, {
        id: ids[i],
        projectId: project.id,
        organizationId: project.organizationId,
        userId: userIds[i],
        username: null,
        email: row.email,
        description: row.description,
        state: 'PENDING',
        backendId: null,
        idempotencyKey: ids[i],
        errorMessage: null,
        errorTraceback: null,
        failedOperation: null,
        expiresAt,
        closedAt: null,
      }),
    );
    for (let i = 0; i < accounts.length; i += INSERT_CHUNK) {
      await tx
        .createQueryBuilder()
        .insert()
        .into(CourseAccount)
        .values(accounts.slice(i, i + INSERT_CHUNK))
        .execute();
    }
    return accounts;
  }

  /** Runs inserting work; the partial unique index's violation (a race the lock did not cover) is a 409. */
  private async insertInTransaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    try {
      return await this.db.transaction(work);
    } catch (e) {
      if (isUniqueViolation(e))
        throw new CourseAccountError(
          'duplicate_account',
          'The project already has a live course account for this e-mail.',
        );
      throw e;
    }
  }
}
