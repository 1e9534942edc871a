import { createHash, randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { DataSource } from 'typeorm';
import { createOrganization, createStaff, unique } from '../factories/accounts';
import { ltiLaunch, ltiLogin, reasonOf, SessionBody, TARGET, TOOL_URL } from '../utils/lti-launch';
import { LtiPlatformSimulator, ROLE, startLtiPlatform } from '../utils/lti-platform';
import { createTestApp, TestApp } from '../utils/test-app';
import { TEST_REDIS_URL } from '../utils/test-databases';

const sha256 = (v: string) => createHash('sha256').update(v).digest('hex');

/**
 * Two instances of the tool on one PostgreSQL database (and one Redis, when configured), behind a
 * balancer without sticky sessions: each step of a launch may land on either. The login's state and
 * nonce and the spent nonces live in the database or in Redis; the launch ids and the tool keys in
 * the database; so any instance continues what another began, and a replay is refused wherever it
 * is sent.
 */
describe.each([
  { store: 'PostgreSQL', redis: false },
  { store: 'Redis', redis: true },
])('LTI launches across two app instances, login state in $store', ({ redis }) => {
  let a: TestApp;
  let b: TestApp;
  let lms: LtiPlatformSimulator;
  const prefix = `ca-test-${randomUUID()}`;
  const settings = {
    PUBLIC_URL: TOOL_URL,
    ...(redis ? { REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: prefix, JOB_WORKERS_ENABLED: 'false' } : {}),
  };

  beforeAll(async () => {
    a = await createTestApp({ settings });
    b = await createTestApp({ settings, databaseUrl: a.database.url });
    lms = await startLtiPlatform();
    const staff = await createStaff(a);
    const org = await createOrganization(a);
    expect((await a.http.post('/api/v1/lti/platforms').set(staff.auth).send(lms.registration(org.id))).status).toBe(
      201,
    );
  });
  afterAll(async () => {
    await lms?.close();
    await b?.close();
    await a?.close();
  });

  async function loginOn(app: TestApp, spec = {}) {
    const login = await ltiLogin(app, lms.loginParams(lms.prepare(spec), TARGET));
    expect(login.res.status).toBe(302);
    return { login, fields: await lms.authorize(login.location) };
  }

  const launchIdOf = (res: { status: number; headers: Record<string, string> }) => {
    expect(res.status).toBe(303);
    return new URL(res.headers.location).searchParams.get('launch_id')!;
  };

  it('logs in on one instance, launches and exchanges on the other', async () => {
    const sub = unique('sub');
    const { login, fields } = await loginOn(a, { sub, roles: [ROLE.instructor], context: { id: unique('ctx') } });
    const launchId = launchIdOf(await ltiLaunch(b, fields, login.cookie));
    const session = await b.http.post(`/api/v1/lti/launches/${launchId}/exchange`);
    expect(session.status).toBe(200);
    expect((session.body as SessionBody).role).toBe('project_manager');
    // The token of one instance is good on the other (one key ring in the database).
    const me = await a.http
      .get('/api/v1/auth/me')
      .set('Authorization', `Bearer ${(session.body as SessionBody).access_token}`);
    expect(me.status).toBe(200);
    // The launch id was spent on b: a's answer is the same refusal.
    expect((await a.http.post(`/api/v1/lti/launches/${launchId}/exchange`)).status).toBe(400);
  });

  it('launches on one instance and exchanges on the other', async () => {
    const { login, fields } = await loginOn(b);
    const launchId = launchIdOf(await ltiLaunch(b, fields, login.cookie));
    expect((await a.http.post(`/api/v1/lti/launches/${launchId}/exchange`)).status).toBe(200);
  });

  it('refuses on the other instance a replay of the form post and of the id_token', async () => {
    const { login, fields } = await loginOn(a);
    launchIdOf(await ltiLaunch(a, fields, login.cookie));
    const resubmitted = await ltiLaunch(b, fields, login.cookie);
    expect({ status: resubmitted.status, reason: reasonOf(resubmitted) }).toEqual({
      status: 401,
      reason: 'state_used',
    });
    const fresh = await ltiLogin(b, lms.loginParams(lms.prepare({}), TARGET));
    const replay = await ltiLaunch(b, { id_token: fields.id_token, state: fresh.state }, fresh.cookie);
    expect({ status: replay.status, reason: reasonOf(replay) }).toEqual({ status: 401, reason: 'nonce_used' });
  });

  it('lets only one of two instances spend a login posted to both at once', async () => {
    const { login, fields } = await loginOn(a);
    const answers = await Promise.all([ltiLaunch(a, fields, login.cookie), ltiLaunch(b, fields, login.cookie)]);
    expect(answers.map((r) => r.status).sort()).toEqual([303, 401]);
    expect(answers.map((r) => reasonOf(r)).filter(Boolean)).toEqual(['state_used']);
  });

  it('keeps the login where it is configured to be', async () => {
    // A token living longer than the login's own keys, so spending it extends them.
    const { login, fields } = await loginOn(a, { exp: 3600 });
    const state = sha256(login.state);
    const rows = async () =>
      (
        await a.app
          .get(DataSource)
          .query<{ n: number }[]>('SELECT count(*)::int AS n FROM lti_logins WHERE state_hash = $1', [state])
      )[0].n;
    if (!redis) {
      expect(await rows()).toBe(1);
      return;
    }
    expect(await rows()).toBe(0);
    const client = new Redis(TEST_REDIS_URL);
    try {
      const key = `${prefix}:lti:login:${state}`;
      const ttl = async () => client.pttl(key);
      const stateTtl = a.settings.LTI_STATE_TTL_SECONDS * 1000;
      // Unspent: the state's TTL plus ten minutes in which a late post is told state_expired.
      expect(await ttl()).toBeGreaterThan(stateTtl + 590_000);
      expect(await ttl()).toBeLessThanOrEqual(stateTtl + 600_000);
      const nonce = login.nonce;
      expect(await client.get(`${prefix}:lti:nonce:${sha256(nonce)}`)).toBe('issued');
      launchIdOf(await ltiLaunch(b, fields, login.cookie));
      // Spent: kept until the id_token's exp plus the clock skew.
      const exp = (JSON.parse(Buffer.from(fields.id_token.split('.')[1], 'base64url').toString()) as { exp: number })
        .exp;
      const keep = (exp + a.settings.LTI_CLOCK_SKEW_SECONDS) * 1000;
      expect(await client.get(`${prefix}:lti:nonce:${sha256(nonce)}`)).toBe('used');
      expect(await client.hget(key, 'used')).not.toBeNull();
      expect(Math.abs(Date.now() + (await ttl()) - keep)).toBeLessThan(2_000);
    } finally {
      client.disconnect();
    }
  });
});
