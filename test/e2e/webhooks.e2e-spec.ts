import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { Webhook } from 'standardwebhooks';
import { createOrganization, createStaff, createUser } from '../factories/accounts';
import { createCourse, ds, orgScope, userWithRole } from '../utils/course-accounts';
import { jobSettings, waitFor } from '../utils/jobs-helpers';
import { createTestApp, TestApp } from '../utils/test-app';
import { WebhookReceiver } from '../utils/webhook-receiver';
import { WebhooksRetention } from '../../src/webhooks/webhooks.retention';

jest.setTimeout(60_000);

const BASE = '/api/v1/webhooks';

describe('Webhooks', () => {
  let t: TestApp;
  let receiver: WebhookReceiver;
  // No SMTP_URL: e-mails are written as .eml files under DATA_DIR/outbox.
  const dataDir = mkdtempSync(join(tmpdir(), 'webhooks-mail-'));
  const outbox = join(dataDir, 'outbox');
  beforeAll(async () => {
    receiver = await new WebhookReceiver().start();
    t = await createTestApp({
      settings: jobSettings('in-process', {
        DATA_DIR: dataDir,
        WEBHOOK_ALLOW_PRIVATE_ADDRESSES: 'true',
        WEBHOOK_RETRY_BACKOFF_MS: '50',
        WEBHOOK_TIMEOUT_MS: '500',
        WEBHOOK_RETRY_WINDOW_MS: '3000',
        OUTBOX_RELAY_INTERVAL_MS: '100',
      }),
    });
  });
  afterAll(async () => {
    await t.close();
    await receiver.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** The e-mails written to the outbox so far that went to `to`. */
  async function mailsTo(to: string) {
    if (!existsSync(outbox)) return [];
    const parsed = await Promise.all(
      readdirSync(outbox)
        .filter((f) => f.endsWith('.eml'))
        .map((f) => simpleParser(readFileSync(join(outbox, f)))),
    );
    return parsed.filter((m) => m.to && !Array.isArray(m.to) && m.to.value.some((a) => a.address === to));
  }

  /** An organization with a course project, its admin and a subscription to `types` at a path of its own. */
  async function subscribed(types: string[] = ['course_account.*']) {
    const org = await createOrganization(t);
    const project = await createCourse(t, org.id);
    const admin = await userWithRole(t, 'organization_admin', orgScope(org));
    const path = `/hooks/${randomUUID()}`;
    const res = await t.http
      .post(BASE)
      .set(admin.auth)
      .send({ organization: org.id, url: `${receiver.origin}${path}`, event_types: types, description: 'agent' })
      .expect(201);
    receiver.secrets.set(path, res.body.secret);
    return { org, project, admin, path, id: res.body.id as string, secret: res.body.secret as string };
  }

  const createAccount = async (auth: Record<string, string>, project: string) =>
    (
      await t.http
        .post('/api/v1/course-accounts')
        .set(auth)
        .send({ project, email: `${randomUUID()}@example.edu` })
        .expect(201)
    ).body as { id: string; username: string };

  const deliveries = async (auth: Record<string, string>, id: string) =>
    (await t.http.get(`${BASE}/${id}/deliveries`).set(auth).expect(200)).body.results as {
      id: string;
      event_type: string;
      state: string;
      attempt_count: number;
      error: string | null;
      attempts: { status: number | null; error: string | null; response_excerpt: string; time: string }[];
    }[];

  describe('subscriptions', () => {
    it('shows the secret once, never again; lists only what the caller may read', async () => {
      const { org, admin, id, secret } = await subscribed();
      expect(secret).toMatch(/^whsec_[A-Za-z0-9+/=]{40,}$/);
      const got = await t.http.get(`${BASE}/${id}`).set(admin.auth).expect(200);
      expect(got.body).toMatchObject({ id, organization: org.id, event_types: ['course_account.*'], active: true });
      expect(JSON.stringify(got.body)).not.toContain(secret.slice(6));
      const [stored] = await ds(t).query(`SELECT secret_encrypted FROM webhook_subscriptions WHERE id = $1`, [id]);
      expect(stored.secret_encrypted).not.toContain(secret.slice(6));

      const other = await subscribed();
      const mine = await t.http.get(BASE).set(admin.auth).expect(200);
      expect(mine.body.results.map((w: { id: string }) => w.id)).toEqual([id]);
      await t.http.get(`${BASE}/${other.id}`).set(admin.auth).expect(404);
      const staff = await createStaff(t);
      const all = await t.http.get(BASE).set(staff.auth).query({ page_size: 500 }).expect(200);
      expect(all.body.results.map((w: { id: string }) => w.id)).toEqual(expect.arrayContaining([id, other.id]));
      const member = await createUser(t, { organizationId: org.id });
      await t.http.get(BASE).set(member.auth).expect(403);
    });

    it('refuses plain http to other hosts, credentials in the URL and unknown event types', async () => {
      const { org, admin } = await subscribed();
      const post = (body: object) =>
        t.http
          .post(BASE)
          .set(admin.auth)
          .send({ organization: org.id, event_types: ['*'], ...body });
      expect((await post({ url: 'http://agent.example.edu/hook' }).expect(400)).body.error).toBe('invalid_url');
      expect((await post({ url: 'ftp://agent.example.edu/hook' }).expect(400)).body.error).toBe('invalid_url');
      expect((await post({ url: 'https://u:p@agent.example.edu/hook' }).expect(400)).body.error).toBe('invalid_url');
      expect((await post({ url: 'not a url' }).expect(400)).body.error).toBe('invalid_url');
      await post({ url: 'https://agent.example.edu/hook' }).expect(201);
      await post({ url: 'http://localhost:9/hook' }).expect(201);
      const unknown = await post({ url: 'https://agent.example.edu/hook', event_types: ['course_acount.*'] }).expect(
        400,
      );
      expect(unknown.body.error).toBe('unknown_event_type');
      const bad = await post({ url: 'https://agent.example.edu/hook', event_types: ['*.created'] }).expect(400);
      expect(bad.body.error).toBe('validation_failed');
    });

    it('updates, and deletes with its deliveries', async () => {
      const { admin, id } = await subscribed();
      const res = await t.http
        .patch(`${BASE}/${id}`)
        .set(admin.auth)
        .send({ event_types: ['project.*'], description: 'new', active: false })
        .expect(200);
      expect(res.body).toMatchObject({ event_types: ['project.*'], description: 'new', active: false });
      await t.http.delete(`${BASE}/${id}`).set(admin.auth).expect(204);
      await t.http.get(`${BASE}/${id}`).set(admin.auth).expect(404);
    });
  });

  describe('delivery', () => {
    it('delivers the organization’s matching events, signed, in order per subject; nothing of other organizations', async () => {
      const a = await subscribed(['course_account.*']);
      const b = await subscribed(['course_account.created']);
      const account = await createAccount(a.admin.auth, a.project.id);
      await t.http.patch(`/api/v1/projects/${a.project.id}`).set(a.admin.auth).send({ name: 'Renamed' }).expect(200);
      await waitFor(async () => receiver.on(a.path).length >= 2, 15_000, 'two deliveries');
      const got = receiver.on(a.path);
      expect(got.map((r) => (r.verified as { type: string } | null)?.type)).toEqual([
        'course_account.created',
        'course_account.state_changed',
      ]);
      const changed = got[1].verified as { id: string; organization: string; subject: object; data: object };
      expect(changed).toMatchObject({
        organization: a.org.id,
        subject: { type: 'CourseAccount', id: account.id },
        data: { id: account.id, from: 'PENDING', to: 'OK', state: 'OK', username: account.username },
      });
      expect(got[1].headers['webhook-id']).toBe(changed.id);
      expect(receiver.on(b.path)).toEqual([]);
      // The receiver's 200 is recorded on the delivery just after the receiver has the message.
      let list = await deliveries(a.admin.auth, a.id);
      await waitFor(
        async () => (list = await deliveries(a.admin.auth, a.id)).every((d) => d.state !== 'pending'),
        15_000,
        'deliveries recorded',
      );
      expect(list.map((d) => [d.event_type, d.state, d.attempt_count])).toEqual([
        ['course_account.state_changed', 'delivered', 1],
        ['course_account.created', 'delivered', 1],
      ]);
      expect(list[0].attempts[0]).toMatchObject({ status: 200, error: null, response_excerpt: 'ok' });
      await t.http.get(`${BASE}/${a.id}/deliveries`).set(b.admin.auth).expect(404);
    });

    it('retries a receiver that fails twice: delivered once, three attempts visible, the next event after it', async () => {
      const s = await subscribed();
      receiver.behave = (path, n) =>
        path === s.path && n <= 2 ? { status: 503, body: 'busy' } : { status: 200, body: 'ok' };
      await createAccount(s.admin.auth, s.project.id);
      await waitFor(async () => receiver.on(s.path).length >= 4, 15_000, 'four requests');
      const types = receiver.on(s.path).map((r) => (r.verified as { type: string }).type);
      expect(types).toEqual([
        'course_account.created',
        'course_account.created',
        'course_account.created',
        'course_account.state_changed',
      ]);
      const ids = receiver.on(s.path).map((r) => r.headers['webhook-id']);
      expect(new Set(ids.slice(0, 3)).size).toBe(1);
      const created = (await deliveries(s.admin.auth, s.id)).find((d) => d.event_type === 'course_account.created')!;
      expect(created).toMatchObject({ state: 'delivered', attempt_count: 3 });
      expect(created.attempts.map((a) => [a.status, a.response_excerpt])).toEqual([
        [503, 'busy'],
        [503, 'busy'],
        [200, 'ok'],
      ]);
      receiver.behave = () => ({ status: 200, body: 'ok' });
    });

    it('gives up on a receiver that hangs after the timeout, and retries it', async () => {
      const s = await subscribed(['course_account.created']);
      receiver.behave = (path, n) => (path === s.path && n === 1 ? 'hang' : { status: 200, body: 'ok' });
      await createAccount(s.admin.auth, s.project.id);
      const [d] = await waitFor(async () => {
        const list = await deliveries(s.admin.auth, s.id);
        return list[0]?.state === 'delivered' && list;
      });
      expect(d.attempts.map((a) => a.status)).toEqual([null, 200]);
      expect(d.attempts[0].error).toMatch(/no answer within 500 ms/);
      receiver.behave = () => ({ status: 200, body: 'ok' });
    });

    it('follows no redirect (one to a private address included): the delivery fails at once', async () => {
      const s = await subscribed(['course_account.created']);
      receiver.behave = (path) =>
        path === s.path ? { status: 302, headers: { location: 'http://10.0.0.1/internal' } } : { status: 200 };
      await createAccount(s.admin.auth, s.project.id);
      const [d] = await waitFor(async () => {
        const list = await deliveries(s.admin.auth, s.id);
        return list[0]?.state === 'failed' && list;
      });
      expect(d.attempt_count).toBe(1);
      expect(d.attempts[0]).toMatchObject({ status: 302 });
      expect(d.error).toMatch(/redirect to http:\/\/10\.0\.0\.1\/internal not followed/);
      expect(receiver.received.filter((r) => r.path === '/internal')).toEqual([]);
      receiver.behave = () => ({ status: 200, body: 'ok' });
    });

    it('disables a subscription after its retry window of failures and tells its admins; turning it on resumes', async () => {
      const s = await subscribed(['course_account.created']);
      const otherAdmin = await userWithRole(t, 'organization_admin', orgScope(s.org));
      const manager = await userWithRole(t, 'course_account_manager', orgScope(s.org));
      const hostile = '<script>alert(1)</script> & "agent"';
      await t.http.patch(`${BASE}/${s.id}`).set(s.admin.auth).send({ description: hostile }).expect(200);
      receiver.behave = (path) => (path === s.path ? { status: 500, body: 'down' } : { status: 200 });
      await createAccount(s.admin.auth, s.project.id);
      const sub = await waitFor(
        async () => {
          const res = await t.http.get(`${BASE}/${s.id}`).set(s.admin.auth).expect(200);
          return !res.body.active && res.body;
        },
        20_000,
        'the subscription to be disabled',
      );
      expect(sub.disabled_reason).toMatch(/No successful attempt within the retry window: HTTP 500/);
      const [d] = await deliveries(s.admin.auth, s.id);
      expect(d.state).toBe('failed');
      expect(d.attempt_count).toBeGreaterThanOrEqual(3);
      const audit = await t.http
        .get('/api/v1/audit-events')
        .set(s.admin.auth)
        .query({ action: 'webhook.disabled', subject_id: s.id })
        .expect(200);
      expect(audit.body.count).toBe(1);

      // Each organization admin is told by e-mail, once; other members of the organization are not.
      for (const admin of [s.admin, otherAdmin]) {
        const [mail, ...more] = await waitFor(
          async () => {
            const mails = await mailsTo(admin.row.email!);
            return mails.length > 0 && mails;
          },
          20_000,
          'the disabled notice',
        );
        expect(more).toEqual([]);
        expect(mail.subject).toMatch(/^Webhook disabled for /);
        expect(mail.text).toContain(`${receiver.origin}${s.path}`);
        expect(mail.text).toContain(hostile);
        expect(mail.text).toContain(s.id);
        expect(mail.text).toMatch(/HTTP 500/);
        // Mustache escapes / as &#x2F; too.
        expect(mail.html).toContain('&lt;script&gt;alert(1)&lt;&#x2F;script&gt; &amp; &quot;agent&quot;');
        expect(mail.html).not.toContain('<script>');
        expect(String(mail.html).replace(/&#x2F;/g, '/')).toContain(`${receiver.origin}${s.path}`);
        for (const body of [mail.text, String(mail.html)]) expect(body).not.toContain(s.secret.replace(/^whsec_/, ''));
      }
      expect(await mailsTo(manager.row.email!)).toEqual([]);

      // Redelivery once the receiver is fixed.
      receiver.behave = () => ({ status: 200, body: 'ok' });
      await t.http.patch(`${BASE}/${s.id}`).set(s.admin.auth).send({ active: true }).expect(200);
      await t.http.post(`${BASE}/${s.id}/deliveries/${d.id}/redeliver`).set(s.admin.auth).expect(202);
      await waitFor(async () => (await deliveries(s.admin.auth, s.id))[0].state === 'delivered');
      await t.http.post(`${BASE}/${s.id}/deliveries/${randomUUID()}/redeliver`).set(s.admin.auth).expect(404);
    });

    it('purges finished deliveries older than WEBHOOK_DELIVERY_RETENTION_DAYS with their attempts, keeps pending ones', async () => {
      const s = await subscribed();
      const ping = async (status: number, state: string) => {
        receiver.behave = (path) => (path === s.path ? { status, body: 'x' } : { status: 200 });
        const id = (await t.http.post(`${BASE}/${s.id}/ping`).set(s.admin.auth).expect(202)).body.id as string;
        await waitFor(async () => {
          const d = (await deliveries(s.admin.auth, s.id)).find((x) => x.id === id);
          return d?.state === state && d.attempt_count > 0;
        });
        return id;
      };
      const oldDelivered = await ping(200, 'delivered');
      const oldFailed = await ping(400, 'failed');
      const recentDelivered = await ping(200, 'delivered');
      const oldPending = await ping(500, 'pending');
      receiver.behave = () => ({ status: 200, body: 'ok' });
      // Time travel: these ended (or last changed) 31 days ago.
      await ds(t).query(`UPDATE webhook_deliveries SET updated_at = now() - interval '31 days' WHERE id = ANY($1)`, [
        [oldDelivered, oldFailed, oldPending],
      ]);

      expect(await t.app.get(WebhooksRetention).purgeExpired()).toBe(2);
      const left = (await deliveries(s.admin.auth, s.id)).map((d) => d.id).sort();
      expect(left).toEqual([recentDelivered, oldPending].sort());
      const attempts = (await ds(t).query(
        `SELECT count(*)::int AS n FROM webhook_attempts WHERE delivery_id = ANY($1)`,
        [[oldDelivered, oldFailed]],
      )) as { n: number }[];
      expect(attempts[0].n).toBe(0);
      expect(await t.app.get(WebhooksRetention).purgeExpired()).toBe(0);
    });

    it('pings, and signs with both secrets during a rotation’s overlap', async () => {
      const s = await subscribed();
      const rotated = await t.http.post(`${BASE}/${s.id}/rotate-secret`).set(s.admin.auth).expect(200);
      expect(rotated.body.secret).not.toBe(s.secret);
      expect(Date.parse(rotated.body.previous_secret_expires_at)).toBeGreaterThan(Date.now() + 3_600_000);
      const ping = await t.http.post(`${BASE}/${s.id}/ping`).set(s.admin.auth).expect(202);
      expect(ping.body).toMatchObject({ event_type: 'ping', state: 'pending' });
      const [hook] = await waitFor(async () => receiver.on(s.path).length > 0 && receiver.on(s.path));
      expect(String(hook.headers['webhook-signature']).split(' ')).toHaveLength(2);
      const headers = hook.headers as Record<string, string>;
      expect(new Webhook(s.secret).verify(hook.body, headers)).toMatchObject({ type: 'ping' });
      expect(new Webhook(rotated.body.secret).verify(hook.body, headers)).toMatchObject({ type: 'ping' });
      expect(() => new Webhook(`whsec_${Buffer.alloc(32, 1).toString('base64')}`).verify(hook.body, headers)).toThrow();
    });
  });
});
