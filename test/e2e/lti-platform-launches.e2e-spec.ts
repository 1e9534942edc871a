import { createOrganization, createStaff } from '../factories/accounts';
import { orgScope, userWithRole } from '../utils/course-accounts';
import { launchAndExchange, TOOL_URL } from '../utils/lti-launch';
import { LtiPlatformSimulator, ROLE, startLtiPlatform } from '../utils/lti-platform';
import { createTestApp, TestApp } from '../utils/test-app';

interface LaunchItem {
  id: string;
  created_at: string;
  message_type: string;
  user: string;
  deployment_id: string;
  context: string | null;
  project: string | null;
  resource_link: string | null;
  roles: string[];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('LTI platform launches', () => {
  let t: TestApp;
  const simulators: LtiPlatformSimulator[] = [];

  beforeAll(async () => {
    t = await createTestApp({ settings: { PUBLIC_URL: TOOL_URL } });
  });
  afterAll(async () => {
    await Promise.all(simulators.map((s) => s.close()));
    await t?.close();
  });

  /** A platform of a new organization, registered by that organization's admin, and its LMS. */
  async function platform() {
    const lms = await startLtiPlatform();
    simulators.push(lms);
    const org = await createOrganization(t);
    const admin = await userWithRole(t, 'organization_admin', orgScope(org));
    const res = await t.http.post('/api/v1/lti/platforms').set(admin.auth).send(lms.registration(org.id));
    expect(res.status).toBe(201);
    return { lms, org, admin, id: res.body.id as string };
  }

  it('lists a launch with its user, deployment, context, project, link and roles, and none of its claims', async () => {
    const { lms, admin, id } = await platform();
    const { launch, session } = await launchAndExchange(t, lms, {
      sub: 'sub-ada',
      roles: [ROLE.learner],
      context: { id: 'ctx-engines', title: 'Analytical Engines' },
      resourceLink: { id: 'link-lab', title: 'Lab' },
      custom: { api_key: 'custom-secret-value' },
    });
    const res = await t.http.get(`/api/v1/lti/platforms/${id}/launches`).set(admin.auth);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ count: 1, next: null, previous: null });
    const [item] = res.body.results as LaunchItem[];
    expect(Object.keys(item).sort()).toEqual(
      [
        'context',
        'created_at',
        'deployment_id',
        'id',
        'message_type',
        'project',
        'resource_link',
        'roles',
        'user',
      ].sort(),
    );
    expect(item).toEqual({
      id: launch.launchId,
      created_at: expect.any(String),
      message_type: 'LtiResourceLinkRequest',
      user: session.user.id,
      deployment_id: lms.deploymentId,
      context: expect.stringMatching(UUID),
      project: session.project!.id,
      resource_link: expect.stringMatching(UUID),
      roles: [ROLE.learner],
    });
    expect(Date.now() - Date.parse(item.created_at)).toBeLessThan(60_000);
    expect(res.text).not.toContain('custom-secret-value');
    expect(res.text).not.toContain(session.access_token);

    // A launch without a course (a resource-link launch always has its link): no context, no project.
    const { launch: bare } = await launchAndExchange(t, lms, { sub: 'sub-ada', roles: [], context: null });
    const after = await t.http.get(`/api/v1/lti/platforms/${id}/launches`).set(admin.auth);
    expect(after.body.count).toBe(2);
    expect(after.body.results[0]).toMatchObject({
      id: bare.launchId,
      user: session.user.id,
      context: null,
      project: null,
      resource_link: expect.stringMatching(UUID),
      roles: [],
    });
    expect(after.body.results[0].resource_link).not.toBe(item.resource_link);
    expect(after.body.results[1]).toEqual(item);
  });

  it('is 404 to another organization’s admin, for a deleted platform and an unknown id; 400 for bad input', async () => {
    const { lms, admin, id } = await platform();
    await launchAndExchange(t, lms, { roles: [ROLE.learner], context: { id: 'ctx-x' } });
    const other = await createOrganization(t);
    const outsider = await userWithRole(t, 'organization_admin', orgScope(other));
    const hidden = await t.http.get(`/api/v1/lti/platforms/${id}/launches`).set(outsider.auth);
    expect(hidden.status).toBe(404);
    expect(hidden.body.error).toBe('not_found');
    const staff = await createStaff(t);
    expect((await t.http.get(`/api/v1/lti/platforms/${id}/launches`).set(staff.auth)).body.count).toBe(1);
    const unknown = '00000000-0000-4000-8000-000000000000';
    expect((await t.http.get(`/api/v1/lti/platforms/${unknown}/launches`).set(admin.auth)).status).toBe(404);
    expect((await t.http.get('/api/v1/lti/platforms/not-a-uuid/launches').set(admin.auth)).status).toBe(400);
    for (const query of [{ user: 'nobody' }, { since: 'yesterday' }, { page_size: '0' }]) {
      const bad = await t.http.get(`/api/v1/lti/platforms/${id}/launches`).query(query).set(admin.auth);
      expect(bad.status).toBe(400);
      expect(bad.body.error).toBe('validation_failed');
    }
    expect((await t.http.get(`/api/v1/lti/platforms/${id}/launches`)).status).toBe(401);
    expect((await t.http.delete(`/api/v1/lti/platforms/${id}`).set(admin.auth)).status).toBe(204);
    expect((await t.http.get(`/api/v1/lti/platforms/${id}/launches`).set(admin.auth)).status).toBe(404);
  });

  it('pages newest first, and filters by user and since', async () => {
    const { lms, admin, id } = await platform();
    const ids: string[] = [];
    const users: string[] = [];
    for (const sub of ['sub-a', 'sub-b', 'sub-a']) {
      const { launch, session } = await launchAndExchange(t, lms, { sub, roles: [ROLE.learner], context: null });
      ids.push(launch.launchId!);
      users.push(session.user.id);
    }
    expect(users[0]).toBe(users[2]);
    expect(users[0]).not.toBe(users[1]);
    const url = `/api/v1/lti/platforms/${id}/launches`;

    const first = await t.http.get(url).query({ page_size: 2 }).set(admin.auth);
    expect(first.status).toBe(200);
    expect(first.body.count).toBe(3);
    expect(first.body.results.map((l: LaunchItem) => l.id)).toEqual([ids[2], ids[1]]);
    expect(first.body.previous).toBeNull();
    expect(first.body.next).toBe(`${TOOL_URL}${url}?page_size=2&page=2`);
    const second = await t.http.get(url).query({ page_size: 2, page: 2 }).set(admin.auth);
    expect(second.body.results.map((l: LaunchItem) => l.id)).toEqual([ids[0]]);
    expect(second.body.next).toBeNull();
    expect(second.body.previous).toBe(`${TOOL_URL}${url}?page_size=2&page=1`);
    const past = await t.http.get(url).query({ page_size: 2, page: 9 }).set(admin.auth);
    expect(past.body).toMatchObject({ count: 3, results: [] });

    const mine = await t.http.get(url).query({ user: users[0] }).set(admin.auth);
    expect(mine.body.results.map((l: LaunchItem) => l.id)).toEqual([ids[2], ids[0]]);
    const all = (first.body.results as LaunchItem[]).concat(second.body.results as LaunchItem[]);
    const since = all.find((l) => l.id === ids[1])!.created_at;
    const recent = await t.http.get(url).query({ since }).set(admin.auth);
    expect(recent.body.results.map((l: LaunchItem) => l.id)).toEqual([ids[2], ids[1]]);
    const both = await t.http.get(url).query({ since, user: users[1] }).set(admin.auth);
    expect(both.body.results.map((l: LaunchItem) => l.id)).toEqual([ids[1]]);
  });
});
