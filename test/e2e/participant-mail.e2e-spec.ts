import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { ParticipantMailService } from '../../src/mail/participant-mail.service';
import { createOrganization, createStaff } from '../factories/accounts';
import { createCourse, day, ds, orgScope, userWithRole } from '../utils/course-accounts';
import { jobSettings, waitFor } from '../utils/jobs-helpers';
import { createTestApp, TestApp } from '../utils/test-app';

jest.setTimeout(60_000);

const HOSTILE = '<script>alert("x")</script> & Bio';

describe('Participant e-mails over SMTP', () => {
  let t: TestApp;
  let smtp: SMTPServer;
  const inbox: ParsedMail[] = [];
  /** Answers the next n messages with a temporary failure. */
  let refuseNext = 0;

  beforeAll(async () => {
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onData(stream, _session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          if (refuseNext > 0) {
            refuseNext--;
            const err = new Error('Try again later') as Error & { responseCode: number };
            err.responseCode = 451;
            return callback(err);
          }
          void simpleParser(Buffer.concat(chunks)).then((m) => {
            inbox.push(m);
            callback();
          });
        });
      },
    });
    await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', () => r()));
    const port = (smtp.server.address() as { port: number }).port;
    t = await createTestApp({
      settings: jobSettings('in-process', {
        SMTP_URL: `smtp://127.0.0.1:${port}`,
        SMTP_FROM: 'Campus Access <courses@example.edu>',
        OUTBOX_RELAY_INTERVAL_MS: '100',
      }),
    });
  });
  afterAll(async () => {
    await t.close();
    await new Promise<void>((r) => smtp.close(() => r()));
  });

  const mailTo = (address: string) =>
    waitFor(
      async () => inbox.find((m) => m.to && JSON.stringify(m.to).includes(address)),
      15_000,
      `mail to ${address}`,
    );

  async function course(name = HOSTILE, endDate = day(30)) {
    const org = await createOrganization(t);
    const project = await createCourse(t, org.id, { name, endDate });
    const admin = await userWithRole(t, 'organization_admin', orgScope(org));
    return { org, project, admin };
  }

  async function account(auth: Record<string, string>, projectId: string) {
    const email = `${randomUUID()}@example.edu`;
    const res = await t.http.post('/api/v1/course-accounts').set(auth).send({ project: projectId, email }).expect(201);
    return { id: res.body.id as string, username: res.body.username as string, email };
  }

  it('welcomes a participant whose account is OK: recipient, subject, both bodies, the course title escaped in HTML', async () => {
    const { project, admin } = await course();
    const a = await account(admin.auth, project.id);
    const mail = await mailTo(a.email);
    expect(mail.to).toMatchObject({ value: [{ address: a.email }] });
    expect(mail.from).toMatchObject({ value: [{ address: 'courses@example.edu' }] });
    expect(mail.subject).toBe(`Your account for ${HOSTILE}`);
    expect(mail.text).toContain(`Username: ${a.username}`);
    expect(mail.text).toContain(HOSTILE);
    expect(mail.text).toContain(`Valid until: ${project.endDate}`);
    expect(mail.html).toContain(`<code>${a.username}</code>`);
    expect(mail.html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;&#x2F;script&gt; &amp; Bio');
    expect(mail.html).not.toContain('<script>');
    const emails = await waitFor(async () => {
      const res = await t.http.get(`/api/v1/course-accounts/${a.id}/emails`).set(admin.auth).expect(200);
      return res.body[0]?.state === 'sent' && res.body;
    });
    expect(emails).toMatchObject([{ kind: 'welcome', recipient: a.email, state: 'sent', attempts: 1 }]);
  });

  it('uses the organization’s own template, refuses one that would put a variable in HTML raw', async () => {
    const { org, project, admin } = await course('Biology 101');
    const base = `/api/v1/organizations/${org.id}/mail-templates`;
    await t.http
      .put(`${base}/welcome`)
      .set(admin.auth)
      .send({
        subject: 'Welcome to {{course}}, {{username}}',
        text: 'Log in at https://hpc.example.edu as {{username}} until {{expires_on}}.',
        html: '<p>Log in at <a href="https://hpc.example.edu">the cluster</a> as {{username}}.</p>',
      })
      .expect(204);
    const raw = await t.http
      .put(`${base}/welcome`)
      .set(admin.auth)
      .send({ subject: 's', text: 't', html: '<p>{{{course}}}</p>' })
      .expect(400);
    expect(raw.body.error).toBe('validation_failed');
    await t.http.put(`${base}/unknown`).set(admin.auth).send({ subject: 's', text: 't', html: 'h' }).expect(400);
    const list = await t.http.get(base).set(admin.auth).expect(200);
    expect(list.body.map((x: { kind: string; custom: boolean }) => [x.kind, x.custom])).toEqual([
      ['welcome', true],
      ['expiry_notice', false],
      ['closed', false],
    ]);
    const a = await account(admin.auth, project.id);
    const mail = await mailTo(a.email);
    expect(mail.subject).toBe(`Welcome to Biology 101, ${a.username}`);
    expect(mail.text).toContain(`Log in at https://hpc.example.edu as ${a.username} until ${project.endDate}.`);
    expect(mail.html).toContain(`as ${a.username}.</p>`);

    const other = await userWithRole(t, 'organization_admin', orgScope(await createOrganization(t)));
    await t.http.get(base).set(other.auth).expect(404);
    await t.http.delete(`${base}/welcome`).set(admin.auth).expect(204);
  });

  it('tells the participant when the account is closed, and retries when the server refuses once', async () => {
    const { project, admin } = await course('Chemistry');
    const a = await account(admin.auth, project.id);
    await mailTo(a.email);
    refuseNext = 1;
    await t.http.delete(`/api/v1/course-accounts/${a.id}`).set(admin.auth).expect(204);
    const closed = await waitFor(async () =>
      inbox.find((m) => JSON.stringify(m.to).includes(a.email) && m.subject === 'Your account for Chemistry is closed'),
    );
    expect(closed.text).toContain(a.username);
    const emails = await waitFor(async () => {
      const res = await t.http.get(`/api/v1/course-accounts/${a.id}/emails`).set(admin.auth).expect(200);
      return res.body.length === 2 && res.body[1].state === 'sent' && res.body;
    });
    expect(emails[1]).toMatchObject({ kind: 'closed', attempts: 2, state: 'sent' });
  });

  it('sends a notice before the account expires, once', async () => {
    const { project, admin } = await course('Physics', day(3));
    const a = await account(admin.auth, project.id);
    await mailTo(a.email);
    const service = t.app.get(ParticipantMailService);
    expect(await service.queueExpiryNotices()).toBeGreaterThanOrEqual(1);
    const notice = await waitFor(async () =>
      inbox.find((m) => JSON.stringify(m.to).includes(a.email) && /expires on/.test(m.subject ?? '')),
    );
    expect(notice.subject).toBe(`Your account for Physics expires on ${project.endDate}`);
    await service.queueExpiryNotices();
    const [{ n }] = await ds(t).query(
      `SELECT count(*)::int AS n FROM participant_emails WHERE course_account_id = $1 AND kind = 'expiry_notice'`,
      [a.id],
    );
    expect(n).toBe(1);
  });
});

describe('Participant e-mails without SMTP', () => {
  it('writes .eml files under DATA_DIR/outbox', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ca-mail-'));
    const t = await createTestApp({
      settings: jobSettings('in-process', { DATA_DIR: dataDir, OUTBOX_RELAY_INTERVAL_MS: '100' }),
    });
    try {
      const org = await createOrganization(t);
      const project = await createCourse(t, org.id, { name: 'Offline course' });
      const staff = await createStaff(t);
      const email = `${randomUUID()}@example.edu`;
      await t.http.post('/api/v1/course-accounts').set(staff.auth).send({ project: project.id, email }).expect(201);
      const outbox = join(dataDir, 'outbox');
      const file = await waitFor(async () => existsSync(outbox) && readdirSync(outbox).find((f) => f.endsWith('.eml')));
      const parsed = await simpleParser(readFileSync(join(outbox, file)));
      expect(parsed.subject).toBe('Your account for Offline course');
      expect(JSON.stringify(parsed.to)).toContain(email);
    } finally {
      await t.close();
    }
  });
});
