import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { AuditService } from '../accounts/audit/audit.service';
import type { ProjectSummary } from '../accounts/projects/project.types';
import { ProjectsService } from '../accounts/projects/projects.service';
import { UsersService } from '../accounts/users/users.service';
import type { Principal } from '../common/auth/principal';
import { CommonError } from '../common/errors/common.errors';
import { isUniqueViolation } from '../common/errors/database-errors';
import { foldCase } from '../common/sql/fold-case';
import { queryRows } from '../database/query';
import { TransactionRunner } from '../database/transaction';
import { JobsService } from '../jobs/jobs.service';
import { AppAbility, asSubject } from '../permissions/ability';
import { CourseAccount } from './course-account.entity';
import { backendProject, CourseAccountProvisioner } from './course-account.provisioner';
import { CourseAccountStateMachine } from './course-account.state-machine';
import { CourseAccountError } from './course-accounts.errors';
import { CourseAccountsRepository } from './course-accounts.repository';
import { AccountWithProject, assertProjectOpen, defaultExpiry } from './course-project';
import { BulkCreateCourseAccountsDto, CreateCourseAccountDto, SkippedRow } from './dto/course-account.dto';
import { CREATE_COURSE_ACCOUNTS_JOB } from './jobs/course-account.jobs';

export interface BulkCreated {
  jobId: string | null;
  accounts: CourseAccount[];
  project: ProjectSummary;
  skipped: SkippedRow[];
}

/**
 * Creating course accounts: one within the request (created upstream before it answers), or up to
 * 1,000 PENDING with the job that creates them upstream. The project is checked first (404 hidden,
 * 403 without the right, 400 when it cannot hold accounts) and read again, locked, in the creating
 * transaction.
 */
@Injectable()
export class CourseAccountCreation {
  constructor(
    private readonly accounts: CourseAccountsRepository,
    private readonly users: UsersService,
    private readonly projects: ProjectsService,
    private readonly audit: AuditService,
    private readonly jobs: JobsService,
    private readonly machine: CourseAccountStateMachine,
    private readonly provisioner: CourseAccountProvisioner,
    private readonly transactions: TransactionRunner,
  ) {}

  /** Creates the account and its user, then the account upstream within the request: OK, or ERRED with the backend's error. */
  async create(who: Principal, ability: AppAbility, dto: CreateCourseAccountDto): Promise<AccountWithProject> {
    const project = await this.usableProject(ability, dto.project);
    const expiresAt = this.expiry(project, dto.expires_at);
    const email = dto.email?.trim() || null;
    const account = await this.insertInTransaction(async (tx) => {
      await this.lockProject(tx, project.id);
      await this.assertStillOpen(tx, project.id);
      if (email) {
        const [existing] = await this.accounts.liveWithEmails(tx, project.id, await foldCase(tx, [email]));
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
    const wanted: { row: number; email: string; key: string; description: string }[] = [];
    const emails = dto.course_accounts.map((r) => r.email.trim());
    // Two e-mails are the same when the unique index says so: compared folded by the database.
    const keys = await this.transactions.run((tx) => foldCase(tx, emails));
    dto.course_accounts.forEach((r, row) => {
      const [email, key] = [emails[row], keys[row]];
      const earlier = firstRow.get(key);
      if (earlier !== undefined) {
        skipped.push({ row, email, reason: 'duplicate_in_request', duplicate_of: earlier });
        return;
      }
      firstRow.set(key, row);
      wanted.push({ row, email, key, description: r.description ?? '' });
    });
    return this.insertInTransaction(async (tx) => {
      await this.lockProject(tx, project.id);
      await this.assertStillOpen(tx, project.id);
      const live = new Map(
        (
          await this.accounts.liveWithEmails(
            tx,
            project.id,
            wanted.map((w) => w.key),
          )
        ).map((a) => [a.key, a.id]),
      );
      const fresh = wanted.filter((w) => {
        const existing = live.get(w.key);
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
      const [existing] = await this.accounts.liveWithEmails(tx, project.id, await foldCase(tx, [request.email]));
      if (existing) return { id: existing.id, state: existing.state };
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
   * The project for a new account: 404 when the caller cannot see it, 403 when it may not create
   * accounts in it, 400 when it cannot hold accounts (not a course, no end date, ended, deleted).
   */
  private async usableProject(ability: AppAbility, projectId: string): Promise<ProjectSummary> {
    const project = await this.projects.findSummary(projectId);
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
      throw new CommonError('forbidden', 'You may not create course accounts in this project.', {
        project: projectId,
      });
    }
    assertProjectOpen(project);
    return project;
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
  /** Serializes creations in one project, so the duplicate check and the insert see the same rows. */
  private async lockProject(tx: EntityManager, projectId: string): Promise<void> {
    await queryRows(tx, `SELECT pg_advisory_xact_lock(hashtext('course_accounts:' || $1))`, [projectId]);
  }
  /**
   * Reads the project again in the creating transaction, locked until it commits: a deletion that
   * came first is refused here (400 project_deleted), and one that comes later waits and then sees
   * the new accounts, which it closes.
   */
  private async assertStillOpen(tx: EntityManager, projectId: string): Promise<void> {
    const project = await this.projects.lockForShare(projectId, tx);
    if (!project) throw new CourseAccountError('project_not_found', 'Project not found.', { project: projectId });
    assertProjectOpen(project);
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
    await this.machine.insertPending(tx, accounts);
    return accounts;
  }
  /** Runs inserting work; the partial unique index's violation (a race the lock did not cover) is a 409. */
  private async insertInTransaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    try {
      return await this.transactions.run(work);
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
