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
