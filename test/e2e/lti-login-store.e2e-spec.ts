import { createHash, randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { DataSource } from 'typeorm';
import { createOrganization, createStaff, unique } from '../factories/accounts';
import { fullLaunch, ltiLaunch, ltiLogin, reasonOf, SessionBody, TARGET, TOOL_URL } from '../utils/lti-launch';
import { LtiPlatformSimulator, startLtiPlatform } from '../utils/lti-platform';
import { formBody, signLaunch } from '../utils/lti11-consumer';
import { TcpProxy } from '../utils/tcp-proxy';
import { createTestApp, TestApp } from '../utils/test-app';
import { TEST_REDIS_URL } from '../utils/test-databases';

const sha256 = (v: string) => createHash('sha256').update(v).digest('hex');

/**
 * The login store, in PostgreSQL (no REDIS_URL) and in Redis: a state past its TTL is told apart
 * from an unknown one, and a launch refused inside its transaction gives its login back (the same
 * form post works once the cause is gone), exactly as the table's transaction does.
 */
describe.each([
  { store: 'PostgreSQL', redis: false },
  { store: 'Redis', redis: true },
])('LTI login store in $store', ({ redis }) => {
  let t: TestApp;
  let lms: LtiPlatformSimulator;
  let staff: { Authorization: string };
  let client: Redis | undefined;
  const prefix = `ca-test-${randomUUID()}`;

  beforeAll(async () => {
    t = await createTestApp({
      settings: {
        PUBLIC_URL: TOOL_URL,
        ...(redis ? { REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: prefix, JOB_WORKERS_ENABLED: 'false' } : {}),
      },
    });
    if (redis) client = new Redis(TEST_REDIS_URL);
    lms = await startLtiPlatform();
    staff = (await createStaff(t)).auth;
    const org = await createOrganization(t);
    expect((await t.http.post('/api/v1/lti/platforms').set(staff).send(lms.registration(org.id))).status).toBe(201);
  });
  afterAll(async () => {
    client?.disconnect();
    await lms?.close();
    await t?.close();
  });

  /** Moves a login's expiry into the past, where the store keeps it. */
  async function expire(state: string): Promise<void> {
    if (client) {
      expect(await client.hset(`${prefix}:lti:login:${sha256(state)}`, 'expires', Date.now() - 1000)).toBe(0);
      return;
    }
    const [, affected] = (await t.app
      .get(DataSource)
      .query(`UPDATE lti_logins SET expires_at = now() - interval '1 second' WHERE state_hash = $1`, [
        sha256(state),
      ])) as [unknown, number];
    expect(affected).toBe(1);
  }

  it('tells a state past its TTL (state_expired) from one never issued (unknown_state)', async () => {
    const login = await ltiLogin(t, lms.loginParams(lms.prepare({}), TARGET));
    const fields = await lms.authorize(login.location);
    await expire(login.state);
    const late = await ltiLaunch(t, fields, login.cookie);
    expect({ status: late.status, reason: reasonOf(late) }).toEqual({ status: 401, reason: 'state_expired' });
    const forged = await ltiLaunch(t, { ...fields, state: 'never-issued' }, login.cookie);
    expect({ status: forged.status, reason: reasonOf(forged) }).toEqual({ status: 401, reason: 'unknown_state' });
  });

  it('gives the login back when the launch is refused in its transaction, and spends it once the launch succeeds', async () => {
    const sub = unique('sub');
    const first = await fullLaunch(t, lms, { sub });
    const session = (await t.http.post(`/api/v1/lti/launches/${first.launchId}/exchange`)).body as SessionBody;
    const setActive = async (is_active: boolean) =>
      expect((await t.http.patch(`/api/v1/users/${session.user.id}`).set(staff).send({ is_active })).status).toBe(200);

    await setActive(false);
    const login = await ltiLogin(t, lms.loginParams(lms.prepare({ sub }), TARGET));
    const fields = await lms.authorize(login.location);
    const refused = await ltiLaunch(t, fields, login.cookie);
    expect({ status: refused.status, reason: reasonOf(refused) }).toEqual({ status: 401, reason: 'user_deactivated' });

    await setActive(true);
    const again = await ltiLaunch(t, fields, login.cookie);
    expect(again.status).toBe(303);
    const replay = await ltiLaunch(t, fields, login.cookie);
    expect({ status: replay.status, reason: reasonOf(replay) }).toEqual({ status: 401, reason: 'state_used' });
  });
});

/** With Redis cut off, logins and launches are refused with their own reason (never a 500, never skipping the check). */
describe('LTI stores with Redis unavailable', () => {
  let t: TestApp;
  let lms: LtiPlatformSimulator;
  let consumer: { consumer_key: string; consumer_secret: string };
  const proxy = TcpProxy.forUrl(TEST_REDIS_URL);

  beforeAll(async () => {
    await proxy.start();
    t = await createTestApp({
      settings: {
        PUBLIC_URL: TOOL_URL,
        REDIS_URL: proxy.rewrite(TEST_REDIS_URL),
        REDIS_KEY_PREFIX: `ca-test-${randomUUID()}`,
        JOB_WORKERS_ENABLED: 'false',
      },
    });
    lms = await startLtiPlatform();
    const staff = await createStaff(t);
    const org = await createOrganization(t);
    expect((await t.http.post('/api/v1/lti/platforms').set(staff.auth).send(lms.registration(org.id))).status).toBe(
      201,
    );
    const created = await t.http
      .post('/api/v1/lti/consumers')
      .set(staff.auth)
      .send({ organization: org.id, consumer_name: 'Legacy LMS' });
    expect(created.status).toBe(201);
    consumer = created.body as typeof consumer;
  });
  afterAll(async () => {
    await lms?.close();
    await t?.close();
    await proxy.close();
  });

  it('refuses an LTI 1.1 launch with nonce_store_unavailable rather than skip the replay check', async () => {
    const launch = () =>
      t.http
        .post('/lti/1.1/launch')
        .type('form')
        .send(
          formBody(
            signLaunch(
              `${TOOL_URL}/lti/1.1/launch`,
              Object.entries({
                lti_message_type: 'basic-lti-launch-request',
                lti_version: 'LTI-1p0',
                resource_link_id: 'rl',
                user_id: unique('u'),
              }),
              consumer.consumer_key,
              consumer.consumer_secret,
            ),
          ),
        );
    await proxy.cut();
    try {
      const refused = await launch();
      expect({ status: refused.status, reason: reasonOf(refused) }).toEqual({
        status: 401,
        reason: 'nonce_store_unavailable',
      });
    } finally {
      await proxy.restore();
    }
    let status = 0;
    for (let i = 0; i < 50 && status !== 303; i++) {
      status = (await launch()).status;
      if (status !== 303) await new Promise((r) => setTimeout(r, 200));
    }
    expect(status).toBe(303);
  }, 30_000);

  it('refuses the login and the launch with state_store_unavailable, then works again once Redis is back', async () => {
    const login = await ltiLogin(t, lms.loginParams(lms.prepare({}), TARGET));
    expect(login.res.status).toBe(302);
    const fields = await lms.authorize(login.location);

    await proxy.cut();
    const launch = await ltiLaunch(t, fields, login.cookie);
    expect({ status: launch.status, reason: reasonOf(launch) }).toEqual({
      status: 401,
      reason: 'state_store_unavailable',
    });
    const another = (await ltiLogin(t, lms.loginParams(lms.prepare({}), TARGET))).res;
    expect({ status: another.status, reason: reasonOf(another) }).toEqual({
      status: 400,
      reason: 'state_store_unavailable',
    });
    expect(t.logs.some((l) => l.includes('"lti_reason":"state_store_unavailable"'))).toBe(true);

    await proxy.restore();
    // The login was not spent by the refused launch: once Redis answers, the same form post launches.
    let status = 0;
    for (let i = 0; i < 50 && status !== 303; i++) {
      const res = await ltiLaunch(t, fields, login.cookie);
      status = res.status;
      if (status !== 303) {
        expect(reasonOf(res)).toBe('state_store_unavailable');
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    expect(status).toBe(303);
  }, 30_000);
});
