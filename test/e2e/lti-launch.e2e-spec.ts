import { createOrganization, createStaff } from '../factories/accounts';
import { launchAndExchange, TARGET, TOOL_URL } from '../utils/lti-launch';
import { LtiPlatformSimulator, ROLE, startLtiPlatform } from '../utils/lti-platform';
import { createTestApp, TestApp } from '../utils/test-app';

describe('LTI launch', () => {
  let t: TestApp;
  let lms: LtiPlatformSimulator;

  beforeAll(async () => {
    t = await createTestApp({ settings: { PUBLIC_URL: TOOL_URL } });
    lms = await startLtiPlatform();
    const staff = await createStaff(t);
    const org = await createOrganization(t);
    const res = await t.http.post('/api/v1/lti/platforms').set(staff.auth).send(lms.registration(org.id));
    expect(res.status).toBe(201);
  });
  afterAll(async () => {
    await lms?.close();
    await t?.close();
  });

  it('signs a learner in: login → authorization → launch → 303 → exchange', async () => {
    const { launch, session } = await launchAndExchange(t, lms, {
      email: 'ada.lovelace@example.edu',
      givenName: 'Ada',
      familyName: 'Lovelace',
      roles: [ROLE.learner],
      context: { id: 'ctx-smoke', title: 'Analytical Engines' },
    });
    expect(launch.res.status).toBe(303);
    expect(launch.res.headers.location).toMatch(new RegExp(`^${TARGET}\\?launch_id=`));
    expect(session).toMatchObject({
      token_type: 'Bearer',
      role: 'project_member',
      project: { name: 'Analytical Engines' },
    });
    const me = await t.http.get('/api/v1/auth/me').set('Authorization', `Bearer ${session.access_token}`);
    expect(me.status).toBe(200);
  });
});
