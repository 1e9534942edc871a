import { Client } from 'pg';
import { createOrganization, createStaff, unique } from '../factories/accounts';
import { FakeCourseBackend, startFakeCourseBackend } from '../utils/fake-course-backend';
import { jobSettings } from '../utils/jobs-helpers';
import { launchAndExchange, TOOL_URL } from '../utils/lti-launch';
import { LaunchSpec, LtiPlatformSimulator, ROLE, startLtiPlatform } from '../utils/lti-platform';
import { createTestApp, TestApp } from '../utils/test-app';

/**
 * Course accounts on launch: a platform set to provision them always, or for the resource links
 * whose custom parameters ask (`campus_access_course_account=true`, set on the link in the LMS),
 * gives the learner their lab account on the launch itself, created upstream (here the temporary
 * accounts API's stand-in) before the redirect; the exchange answers its state, and later launches
 * find the same account.
 */
describe('LTI launches provision the learner’s course account', () => {
  let t: TestApp;
  let fake: FakeCourseBackend;
  let lms: LtiPlatformSimulator;
  let staff: { Authorization: string };
  let platformId: string;
  let sql: Client;

  beforeAll(async () => {
    fake = await startFakeCourseBackend();
    t = await createTestApp({ settings: { PUBLIC_URL: TOOL_URL, ...jobSettings('in-process', fake.settings()) } });
    lms = await startLtiPlatform();
    staff = (await createStaff(t)).auth;
    const org = await createOrganization(t);
    const res = await t.http
      .post('/api/v1/lti/platforms')
      .set(staff)
      .send(lms.registration(org.id, { verifies_email: true }));
    expect(res.status).toBe(201);
    platformId = res.body.id as string;
    sql = new Client({ connectionString: t.database.url });
    await sql.connect();
  });
  afterAll(async () => {
    await sql?.end();
    await lms?.close();
    await t?.close();
    await fake?.close();
  });

  async function policy(value: 'never' | 'always' | 'when_link_asks') {
    const res = await t.http
      .patch(`/api/v1/lti/platforms/${platformId}`)
      .set(staff)
      .send({ course_accounts_on_launch: value });
    expect(res.status).toBe(200);
    expect(res.body.course_accounts_on_launch).toBe(value);
  }

  const learner = (extra: LaunchSpec = {}): LaunchSpec => {
    const id = unique('learner');
    return {
      sub: `sub-${id}`,
      email: `${id}@example.edu`,
      givenName: 'Alan',
      familyName: 'Turing',
      roles: [ROLE.learner],
      context: { id: unique('ctx'), title: unique('Lab course') },
      resourceLink: { id: unique('link'), title: 'Lab account' },
      ...extra,
    };
  };

  const accountsOf = async (userEmail: string) =>
    (await sql.query('SELECT id, state FROM course_accounts WHERE email = $1', [userEmail])).rows as {
      id: string;
      state: string;
    }[];

  it('platform default "always": the first launch creates the account upstream, the next ones find it', async () => {
    await policy('always');
    const spec = learner();
    const first = (await launchAndExchange(t, lms, spec)).session;
    expect(first.course_account).toMatchObject({ id: expect.any(String), state: 'OK', username: expect.any(String) });
    const upstream = fake.accounts.get(first.course_account!.username!);
    expect(upstream).toMatchObject({ email: spec.email, closed: false });
    expect(upstream!.ownerUsername).toBe(first.user.username);

    const creations = fake.counts.creations;
    const second = (await launchAndExchange(t, lms, { ...spec, resourceLink: { id: unique('other-link') } })).session;
    expect(second.course_account).toEqual(first.course_account);
    expect(fake.counts.creations).toBe(creations);
    expect(await accountsOf(spec.email!)).toEqual([{ id: first.course_account!.id, state: 'OK' }]);
    const memberships = await sql.query(
      'SELECT course_account_id FROM lti_memberships m JOIN lti_identities i ON i.user_id = m.user_id WHERE i.subject = $1',
      [spec.sub],
    );
    expect(memberships.rows).toEqual([{ course_account_id: first.course_account!.id }]);
  });

  it('"when_link_asks": only a resource link whose custom parameter asks provisions', async () => {
    await policy('when_link_asks');
    const plain = learner();
    expect((await launchAndExchange(t, lms, plain)).session.course_account).toBeNull();
    expect(await accountsOf(plain.email!)).toEqual([]);

    const asking = learner({ custom: { campus_access_course_account: 'true' } });
    const session = (await launchAndExchange(t, lms, asking)).session;
    expect(session.course_account).toMatchObject({ state: 'OK' });
    // The same learner through a link that does not ask keeps their account.
    const again = (
      await launchAndExchange(t, lms, { ...asking, custom: undefined, resourceLink: { id: unique('plain-link') } })
    ).session;
    expect(again.course_account?.id).toBe(session.course_account!.id);
    expect(await accountsOf(asking.email!)).toHaveLength(1);
  });

  it('"never", and a launch without a context, make no account', async () => {
    await policy('never');
    const spec = learner({ custom: { campus_access_course_account: 'true' } });
    expect((await launchAndExchange(t, lms, spec)).session.course_account).toBeNull();
    await policy('always');
    const noContext = learner({ context: null });
    expect((await launchAndExchange(t, lms, noContext)).session).toMatchObject({ project: null, course_account: null });
    expect(await accountsOf(noContext.email!)).toEqual([]);
  });

  it('answers an account the backend refused as ERRED, and the launch still signs the learner in', async () => {
    await policy('always');
    fake.fail = { createStatus: 400 };
    try {
      const spec = learner();
      const { session } = await launchAndExchange(t, lms, spec);
      expect(session.user.email).toBe(spec.email);
      expect(session.course_account).toMatchObject({ state: 'ERRED', error_message: expect.any(String) });
    } finally {
      fake.fail = {};
    }
  });
});
