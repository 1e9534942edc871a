import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { OrganizationsService } from '../accounts/organizations/organizations.service';
import { ProjectsService } from '../accounts/projects/projects.service';
import { CommonError } from '../common/errors/common.errors';
import { InjectSettings } from '../config/settings.module';
import { Settings } from '../config/settings.schema';
import { queryRows } from '../database/query';
import { CourseAccountsService } from '../course-accounts/course-accounts.service';
import type { StoredEvent } from '../events/event-types';
import { OutboxRelay } from '../events/outbox-relay';
import { JobsService } from '../jobs/jobs.service';
import type { AppAbility } from '../permissions/ability';
import { requireAccess } from '../permissions/access';
import { DEFAULT_TEMPLATES, TemplateSet } from './default-templates';
import { MAIL_JOB_OWNER, SEND_PARTICIPANT_EMAIL_JOB } from './mail.jobs';
import { Mailer } from './mailer';
import { MailKind, MailTemplate } from './mail-template.entity';
import { ParticipantEmail } from './participant-email.entity';
import { renderMail, templateProblem } from './render';

const EXPIRY_SCAN_EVERY_MS = 3_600_000;
const EXPIRY_PAGE = 500;

/**
 * Participant e-mails of course accounts: a welcome when an account becomes OK, a notice
 * COURSE_ACCOUNTS_EXPIRY_NOTICE_DAYS before it expires, and one when it is closed. Each is a row of
 * `participant_emails` and a `mail.send` job (retried); the templates are the organization's own or
 * the defaults.
 */
@Injectable()
export class ParticipantMailService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Mail');
  private timer?: NodeJS.Timeout;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly relay: OutboxRelay,
    private readonly jobs: JobsService,
    private readonly courseAccounts: CourseAccountsService,
    private readonly projects: ProjectsService,
    private readonly organizations: OrganizationsService,
    private readonly mailer: Mailer,
    @InjectSettings() private readonly settings: Settings,
  ) {
    this.relay.register('mail', (events, tx) => this.consume(events, tx));
  }

  onApplicationBootstrap(): void {
    if (this.settings.COURSE_ACCOUNTS_EXPIRY_NOTICE_DAYS <= 0) return;
    this.timer = setInterval(
      () => void this.queueExpiryNotices().catch((e: Error) => this.logger.warn(e.message)),
      EXPIRY_SCAN_EVERY_MS,
    );
    this.timer.unref();
    setTimeout(() => void this.queueExpiryNotices().catch((e: Error) => this.logger.warn(e.message)), 5000).unref();
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Welcome on a move to OK, a notice on a close: queued in the relay's transaction. */
  async consume(events: readonly StoredEvent[], tx: EntityManager): Promise<void> {
    const wanted: { accountId: string; organizationId: string; kind: MailKind; email: string }[] = [];
    for (const e of events) {
      const email = typeof e.payload.email === 'string' ? e.payload.email : null;
      if (!email || !e.organizationId) continue;
      if (e.type === 'course_account.state_changed' && e.payload.to === 'OK')
        wanted.push({ accountId: e.subjectId, organizationId: e.organizationId, kind: 'welcome', email });
      if (e.type === 'course_account.closed')
        wanted.push({ accountId: e.subjectId, organizationId: e.organizationId, kind: 'closed', email });
    }
    await this.queue(wanted, tx);
  }

  /** Notices for OK accounts expiring within COURSE_ACCOUNTS_EXPIRY_NOTICE_DAYS that have none yet. */
  async queueExpiryNotices(): Promise<number> {
    const days = this.settings.COURSE_ACCOUNTS_EXPIRY_NOTICE_DAYS;
    if (days <= 0) return 0;
    const before = new Date(Date.now() + days * 86_400_000);
    let after = '00000000-0000-0000-0000-000000000000';
    let queued = 0;
    for (;;) {
      const ids = await this.courseAccounts.expiringIds(before, after, EXPIRY_PAGE);
      if (ids.length === 0) return queued;
      after = ids[ids.length - 1];
      const accounts = await this.courseAccounts.findSummaries(ids);
      const projects = new Map(
        (await this.projects.findSummaries(accounts.map((a) => a.projectId))).map((p) => [p.id, p]),
      );
      queued += await this.db.transaction((tx) =>
        this.queue(
          accounts
            .filter((a) => a.email && projects.get(a.projectId))
            .map((a) => ({
              accountId: a.id,
              organizationId: projects.get(a.projectId)!.organizationId,
              kind: 'expiry_notice' as const,
              email: a.email!,
            })),
          tx,
        ),
      );
    }
  }

  /** Rows and jobs for e-mails not queued before (one of each kind per account). */
  private async queue(
    wanted: { accountId: string; organizationId: string; kind: MailKind; email: string }[],
    tx: EntityManager,
  ): Promise<number> {
    if (wanted.length === 0) return 0;
    const rows = await queryRows<{ id: string; organization_id: string }>(
      tx,
      `INSERT INTO participant_emails (course_account_id, organization_id, kind, recipient)
       SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[])
       ON CONFLICT (course_account_id, kind) DO NOTHING RETURNING id, organization_id`,
      [
        wanted.map((w) => w.accountId),
        wanted.map((w) => w.organizationId),
        wanted.map((w) => w.kind),
        wanted.map((w) => w.email),
      ],
    );
    for (const r of rows)
      await this.jobs.enqueue(
        SEND_PARTICIPANT_EMAIL_JOB,
        { emailId: r.id },
        { owner: MAIL_JOB_OWNER, organizationId: r.organization_id },
        tx,
      );
    return rows.length;
  }

  /** Renders and sends one queued e-mail; a failure throws (the job retries). */
  async send(emailId: string): Promise<void> {
    const email = await this.db.manager.findOneBy(ParticipantEmail, { id: emailId });
    if (!email || email.state !== 'pending') return;
    const [account] = await this.courseAccounts.findSummaries([email.courseAccountId]);
    if (!account) return;
    const [project] = await this.projects.findSummaries([account.projectId]);
    const [org] = await this.organizations.summaries([email.organizationId]);
    const template = await this.templateFor(email.organizationId, email.kind);
    const expires = new Date(account.expiresAt.getTime() - 1).toISOString().slice(0, 10);
    const mail = renderMail(template, {
      username: account.username ?? '',
      email: email.recipient,
      course: project?.name ?? '',
      course_key: project?.key ?? '',
      organization: org?.name ?? '',
      expires_on: expires,
      days_left: Math.max(0, Math.ceil((account.expiresAt.getTime() - Date.now()) / 86_400_000)),
    });
    await queryRows(
      this.db,
      `UPDATE participant_emails SET attempts = attempts + 1, subject = $2, updated_at = now() WHERE id = $1`,
      [emailId, mail.subject],
    );
    try {
      const messageId = await this.mailer.send({ id: emailId, to: email.recipient, ...mail });
      await queryRows(
        this.db,
        `UPDATE participant_emails SET state = 'sent', sent_at = now(), message_id = $2, error = NULL, updated_at = now() WHERE id = $1 AND state = 'pending'`,
        [emailId, messageId],
      );
    } catch (e) {
      await queryRows(this.db, `UPDATE participant_emails SET error = $2, updated_at = now() WHERE id = $1`, [
        emailId,
        (e as Error).message.slice(0, 1000),
      ]);
      throw e;
    }
  }

  /** The job is out of attempts: the e-mail is failed, with its last error. */
  async giveUp(emailId: string, why: string | null): Promise<void> {
    await queryRows(
      this.db,
      `UPDATE participant_emails SET state = 'failed', error = COALESCE(error, $2), updated_at = now() WHERE id = $1 AND state = 'pending'`,
      [emailId, why ?? 'canceled'],
    );
  }

  /** The e-mails of an account the caller may read, oldest first. */
  async emailsOf(ability: AppAbility, courseAccountId: string): Promise<ParticipantEmail[]> {
    await this.courseAccounts.requireReadable(ability, courseAccountId);
    return this.db.manager.find(ParticipantEmail, { where: { courseAccountId }, order: { createdAt: 'ASC' } });
  }

  /** Every kind's template of an organization: its own, or the default. */
  async templates(
    ability: AppAbility,
    organizationId: string,
  ): Promise<(TemplateSet & { kind: MailKind; custom: boolean })[]> {
    await this.organizationFor(ability, 'read', organizationId);
    const own = await this.db.manager.findBy(MailTemplate, { organizationId });
    return (Object.keys(DEFAULT_TEMPLATES) as MailKind[]).map((kind) => {
      const t = own.find((o) => o.kind === kind);
      return t
        ? { kind, custom: true, subject: t.subject, text: t.text, html: t.html }
        : { kind, custom: false, ...DEFAULT_TEMPLATES[kind] };
    });
  }

  /** Sets an organization's template of one kind (organization admins, staff); 400 `invalid_template` when it does not parse. */
  async setTemplate(ability: AppAbility, organizationId: string, kind: MailKind, t: TemplateSet): Promise<void> {
    await this.organizationFor(ability, 'update', organizationId);
    const problem = templateProblem(t);
    if (problem) throw new CommonError('validation_failed', `The template cannot be used: ${problem}`, { kind });
    await queryRows(
      this.db,
      `INSERT INTO mail_templates (organization_id, kind, subject, text, html) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (organization_id, kind) DO UPDATE SET subject = EXCLUDED.subject, text = EXCLUDED.text, html = EXCLUDED.html, updated_at = now()`,
      [organizationId, kind, t.subject, t.text, t.html],
    );
  }

  /** Back to the default. */
  async resetTemplate(ability: AppAbility, organizationId: string, kind: MailKind): Promise<void> {
    await this.organizationFor(ability, 'update', organizationId);
    await this.db.manager.delete(MailTemplate, { organizationId, kind });
  }

  private async templateFor(organizationId: string, kind: MailKind): Promise<TemplateSet> {
    const own = await this.db.manager.findOneBy(MailTemplate, { organizationId, kind });
    return own ? { subject: own.subject, text: own.text, html: own.html } : DEFAULT_TEMPLATES[kind];
  }

  private async organizationFor(ability: AppAbility, action: 'read' | 'update', id: string): Promise<void> {
    const [org] = await this.organizations.summaries([id]);
    requireAccess(ability, action, 'Organization', org, { message: 'Organization not found.', details: { id } });
  }
}
