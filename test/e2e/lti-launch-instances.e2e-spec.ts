import { createOrganization, createStaff, unique } from '../factories/accounts';
import { ltiLaunch, ltiLogin, reasonOf, SessionBody, TARGET, TOOL_URL } from '../utils/lti-launch';
import { LtiPlatformSimulator, ROLE, startLtiPlatform } from '../utils/lti-platform';
import { createTestApp, TestApp } from '../utils/test-app';

/**
 * Two instances of the tool on one PostgreSQL database, behind a balancer without sticky sessions:
 * each step of a launch may land on either. The login's state and nonce, the spent nonces, the
 * launch ids and the tool keys live in the database, so any instance continues what another began,
 * and a replay is refused wherever it is sent.
 */
describe('LTI launches across two app instances on one database', () => {
  let a: TestApp;
  let b: TestApp;
  let lms: LtiPlatformSimulator;

  beforeAll(async () => {
    a = await createTestApp({ settings: { PUBLIC_URL: TOOL_URL } });
    b = await createTestApp({ settings: { PUBLIC_URL: TOOL_URL }, databaseUrl: a.database.url });
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
});
