import { getQueueToken } from '@nestjs/bull';
import { BullQueueAdapter } from '../../src/jobs/queue/bull.queue-adapter';
import { QUEUE_ADAPTER } from '../../src/jobs/queue/queue-adapter';
import { createOrganization, createServiceAccount, createStaff, createUser } from '../factories/accounts';
import { grantRole, orgScope } from '../permissions/grants';
import { jobSettings } from '../utils/jobs-helpers';
import { createTestApp, TestApp } from '../utils/test-app';

jest.setTimeout(60_000);

const DASHBOARD = '/admin/queues';
const SESSION = '/api/v1/auth/dashboard-session';

/** The `name=value` part of the dashboard cookie in a Set-Cookie answer, and its attributes. */
function dashboardCookie(setCookie: string[] | string | undefined): { pair: string; attributes: string[] } {
  const header = [setCookie ?? []].flat().find((c) => c.startsWith('campus_access_dashboard='));
  if (!header) throw new Error(`no dashboard cookie in ${JSON.stringify(setCookie)}`);
  const [pair, ...attributes] = header.split(';').map((s) => s.trim());
  return { pair, attributes };
}

describe('Queue dashboard', () => {
  describe('with Bull (REDIS_URL set)', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({ settings: jobSettings('bull') });
    });
    afterAll(() => t?.close());

    it('shows every declared queue: the Bull queues @nestjs/bull registered, which the workers use', async () => {
      const staff = await createStaff(t);
      const api = await t.http.get(`${DASHBOARD}/api/queues`).set(staff.auth).expect(200);
      const names = (api.body as { queues: { name: string }[] }).queues.map((q) => q.name).sort();
      expect(names).toEqual(['course-accounts', 'default', 'exports', 'lti', 'mail', 'registrar', 'webhooks']);
      const adapter = t.app.get<BullQueueAdapter>(QUEUE_ADAPTER);
      expect(adapter).toBeInstanceOf(BullQueueAdapter);
      for (const name of names) expect(adapter.queue(name)).toBe(t.app.get(getQueueToken(name), { strict: false }));
      expect(() => adapter.queue('undeclared')).toThrow(/not declared/);
    });

    it('answers 401 to an anonymous request, page and API alike', async () => {
      const page = await t.http.get(DASHBOARD).expect(401);
      expect(page.body).toMatchObject({ error: 'unauthorized' });
      await t.http.get(`${DASHBOARD}/api/queues`).expect(401);
    });

    it('answers 401 to a tampered or foreign token', async () => {
      const staff = await createStaff(t);
      await t.http
        .get(DASHBOARD)
        .set('Authorization', `Bearer ${staff.token.slice(0, -4)}AAAA`)
        .expect(401);
      await t.http.get(DASHBOARD).set('Cookie', 'campus_access_dashboard=not-a-token').expect(401);
    });

    it('answers 403 to a user who is not staff, and to a service account', async () => {
      const user = await createUser(t);
      expect((await t.http.get(DASHBOARD).set(user.auth).expect(403)).body).toMatchObject({ error: 'forbidden' });
      const robot = await createServiceAccount(t, (await createOrganization(t)).id);
      await t.http.get(`${DASHBOARD}/api/queues`).set(robot.auth).expect(403);
    });

    it('answers 401 to a deactivated staff user', async () => {
      const staff = await createUser(t, { isStaff: true, isActive: false });
      await t.http.get(DASHBOARD).set(staff.auth).expect(401);
    });

    it('shows staff with a bearer token the dashboard page', async () => {
      const staff = await createStaff(t);
      const res = await t.http.get(DASHBOARD).set(staff.auth).expect(200);
      expect(res.headers['content-type']).toMatch(/text\/html/);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.text).toContain('<html');
    });

    it('gives staff a dashboard cookie that alone opens the page and its API, listing the queues', async () => {
      const staff = await createStaff(t);
      const res = await t.http.post(SESSION).set(staff.auth).expect(204);
      const { pair, attributes } = dashboardCookie(res.headers['set-cookie']);
      expect(attributes).toEqual(expect.arrayContaining(['HttpOnly', 'SameSite=Strict', 'Path=/admin/queues']));
      expect(attributes.find((a) => a.startsWith('Max-Age='))).toBe(`Max-Age=${t.settings.ACCESS_TOKEN_TTL_SECONDS}`);
      expect(res.headers).toMatchObject({ 'cache-control': 'no-store', pragma: 'no-cache' });
      // Served over plain http here, so the cookie is not limited to https.
      expect(attributes).not.toContain('Secure');

      const page = await t.http
        .get(DASHBOARD)
        .set('Cookie', pair)
        .expect(200)
        .expect('Content-Type', /text\/html/);
      const script = /src="([^"]+\.js)"/.exec(page.text)?.[1];
      expect(script).toBeDefined();
      await t.http
        .get(new URL(script!, `http://app${DASHBOARD}/`).pathname)
        .set('Cookie', pair)
        .expect(200);
      const api = await t.http.get(`${DASHBOARD}/api/queues`).set('Cookie', `other=1; ${pair}`).expect(200);
      const names = (api.body as { queues: { name: string; readOnlyMode: boolean }[] }).queues.map((q) => q.name);
      expect(names).toContain('exports');
      expect((api.body as { queues: { readOnlyMode: boolean }[] }).queues.every((q) => q.readOnlyMode)).toBe(true);
    });

    it('marks the cookie Secure when the application is served over https', async () => {
      const staff = await createStaff(t);
      const res = await t.http.post(SESSION).set(staff.auth).set('X-Forwarded-Proto', 'https').expect(204);
      // Without TRUST_PROXY the forwarded scheme is not believed.
      expect(dashboardCookie(res.headers['set-cookie']).attributes).not.toContain('Secure');

      const proxied = await createTestApp({ settings: { ...jobSettings('bull'), TRUST_PROXY: '1' } });
      try {
        const staffThere = await createStaff(proxied);
        const secured = await proxied.http
          .post(SESSION)
          .set(staffThere.auth)
          .set('X-Forwarded-Proto', 'https')
          .expect(204);
        expect(dashboardCookie(secured.headers['set-cookie']).attributes).toContain('Secure');
      } finally {
        await proxied.close();
      }
    });

    it('refuses a dashboard session to anyone but staff', async () => {
      const user = await createUser(t);
      const denied = await t.http.post(SESSION).set(user.auth).expect(403);
      expect(denied.headers['set-cookie']).toBeUndefined();
      const org = await createOrganization(t);
      // An organization admin holds `manage all`, but only in its organization: not staff.
      const admin = await createUser(t, { organizationId: org.id });
      await grantRole(t, admin.principal, 'organization_admin', orgScope(org));
      expect((await t.http.post(SESSION).set(admin.auth).expect(403)).headers['set-cookie']).toBeUndefined();
      const robot = await createServiceAccount(t, org.id);
      await t.http.post(SESSION).set(robot.auth).expect(403);
      await t.http.post(SESSION).expect(401);
    });

    it('never logs the dashboard cookie', async () => {
      const staff = await createStaff(t);
      const { pair } = dashboardCookie((await t.http.post(SESSION).set(staff.auth).expect(204)).headers['set-cookie']);
      await t.http.get(DASHBOARD).set('Cookie', pair).expect(200);
      const token = pair.split('=')[1];
      expect(t.logs.some((line) => line.includes(token))).toBe(false);
    });
  });

  describe('without REDIS_URL', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({ settings: jobSettings('in-process') });
    });
    afterAll(() => t?.close());

    it('serves no dashboard', async () => {
      const staff = await createStaff(t);
      await t.http.get(DASHBOARD).set(staff.auth).expect(404);
      await t.http.get(`${DASHBOARD}/api/queues`).set(staff.auth).expect(404);
    });
  });
});
