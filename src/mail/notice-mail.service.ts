import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { OrganizationsService } from '../accounts/organizations/organizations.service';
import { UsersService } from '../accounts/users/users.service';
import { JobsService } from '../jobs/jobs.service';
import { GroupsService } from '../permissions/groups/groups.service';
import { NOTICE_TEMPLATES } from './default-templates';
import { MAIL_JOB_OWNER, NoticeKind, SEND_NOTICE_EMAIL_JOB, SendNoticeEmailPayload } from './mail.jobs';
import { Mailer } from './mailer';
import { renderMail } from './render';

/**
 * Notices to an organization's admins (the users holding organization_admin there with an e-mail
 * address): one `mail.send_notice` job per recipient, queued in the caller's transaction, rendered
 * and sent by the job (retried with the jobs' backoff). The job row is the record of the notice.
 */
@Injectable()
export class NoticeMailService {
  constructor(
    private readonly groups: GroupsService,
    private readonly users: UsersService,
    private readonly organizations: OrganizationsService,
    private readonly jobs: JobsService,
    private readonly mailer: Mailer,
  ) {}

  /** Queues a notice to every admin of the organization; returns how many. */
  async notifyOrganizationAdmins(
    kind: NoticeKind,
    organizationId: string,
    vars: Record<string, string>,
    tx?: EntityManager,
  ): Promise<number> {
    const ids = await this.groups.holdersOf(
      'organization_admin',
      { type: 'organization', id: organizationId },
      'user',
      tx,
    );
    const recipients = [...new Set((await this.users.emailsOf(ids)).map((u) => u.email))];
    for (const to of recipients)
      await this.jobs.enqueue(
        SEND_NOTICE_EMAIL_JOB,
        { kind, to, organizationId, vars },
        { owner: MAIL_JOB_OWNER, organizationId },
        tx,
      );
    return recipients.length;
  }

  /** Renders and sends one notice; a failure throws (the job retries). */
  async send(jobId: string, payload: SendNoticeEmailPayload): Promise<void> {
    const template = NOTICE_TEMPLATES[payload.kind];
    if (!template) return;
    const [org] = await this.organizations.summaries([payload.organizationId]);
    const mail = renderMail(template, { ...payload.vars, organization: org?.name ?? '' });
    await this.mailer.send({ id: jobId, to: payload.to, ...mail });
  }
}
