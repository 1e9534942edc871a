import { defineJob } from '../jobs/processors/job-definition';

export const MAIL_QUEUE = 'mail';

export interface SendParticipantEmailPayload {
  emailId: string;
}

export type NoticeKind = 'webhook_disabled';

/** A notice to one staff recipient (an organization admin): rendered when sent, from the variables here. */
export interface SendNoticeEmailPayload {
  kind: NoticeKind;
  to: string;
  organizationId: string;
  /** Plain text values the template uses; never secrets. */
  vars: Record<string, string>;
}

export const SEND_NOTICE_EMAIL_JOB = defineJob<SendNoticeEmailPayload>('mail.send_notice', { queue: MAIL_QUEUE });

export const SEND_PARTICIPANT_EMAIL_JOB = defineJob<SendParticipantEmailPayload>('mail.send', { queue: MAIL_QUEUE });

/** Owner of the e-mail jobs the application starts by itself (seen by staff). */
export const MAIL_JOB_OWNER = { type: 'user' as const, id: '00000000-0000-0000-0000-000000000000' };
