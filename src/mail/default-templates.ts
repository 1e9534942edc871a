import type { NoticeKind } from './mail.jobs';
import type { MailKind } from './mail-template.entity';

export interface TemplateSet {
  subject: string;
  text: string;
  html: string;
}

/**
 * The e-mails an organization gets until it sets its own. Variables: `username`, `email`, `course`
 * (the project's name), `course_key`, `organization`, `expires_on` (YYYY-MM-DD), `days_left`.
 */
export const DEFAULT_TEMPLATES: Record<MailKind, TemplateSet> = {
  welcome: {
    subject: 'Your account for {{course}}',
    text: [
      'Hello,',
      '',
      'An account has been created for you for {{course}} ({{organization}}).',
      '',
      'Username: {{username}}',
      'Valid until: {{expires_on}}',
      '',
      'Sign in with this username as your course instructions describe.',
    ].join('\n'),
    html: [
      '<p>Hello,</p>',
      '<p>An account has been created for you for <strong>{{course}}</strong> ({{organization}}).</p>',
      '<p>Username: <code>{{username}}</code><br>Valid until: {{expires_on}}</p>',
      '<p>Sign in with this username as your course instructions describe.</p>',
    ].join('\n'),
  },
  expiry_notice: {
    subject: 'Your account for {{course}} expires on {{expires_on}}',
    text: 'Hello,\n\nYour account {{username}} for {{course}} expires on {{expires_on}} ({{days_left}} days). Save your work before then.',
    html: '<p>Hello,</p>\n<p>Your account <code>{{username}}</code> for <strong>{{course}}</strong> expires on {{expires_on}} ({{days_left}} days). Save your work before then.</p>',
  },
  closed: {
    subject: 'Your account for {{course}} is closed',
    text: 'Hello,\n\nYour account {{username}} for {{course}} has been closed.',
    html: '<p>Hello,</p>\n<p>Your account <code>{{username}}</code> for <strong>{{course}}</strong> has been closed.</p>',
  },
};

/**
 * Notices to an organization's admins (not customizable per organization). Variables of
 * `webhook_disabled`: `organization`, `url`, `description`, `reason`, `subscription_id`.
 */
export const NOTICE_TEMPLATES: Record<NoticeKind, TemplateSet> = {
  webhook_disabled: {
    subject: 'Webhook disabled for {{organization}}',
    text: [
      'Hello,',
      '',
      'The webhook subscription {{subscription_id}} of {{organization}} has been disabled: its deliveries kept failing.',
      '',
      'URL: {{url}}',
      'Description: {{description}}',
      'Last error: {{reason}}',
      '',
      'Its waiting deliveries are kept. Fix the receiver, then turn the subscription on again (active: true).',
    ].join('\n'),
    html: [
      '<p>Hello,</p>',
      '<p>The webhook subscription <code>{{subscription_id}}</code> of <strong>{{organization}}</strong> has been disabled: its deliveries kept failing.</p>',
      '<p>URL: <code>{{url}}</code><br>Description: {{description}}<br>Last error: {{reason}}</p>',
      '<p>Its waiting deliveries are kept. Fix the receiver, then turn the subscription on again (<code>active: true</code>).</p>',
    ].join('\n'),
  },
};
