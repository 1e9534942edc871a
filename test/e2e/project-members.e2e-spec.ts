import { randomUUID } from 'node:crypto';
import { TokenIssuer } from '../../src/accounts/auth/token-issuer.service';
import { createOrganization, createServiceAccount, createStaff, createUser } from '../factories/accounts';
import { grantRole, orgScope, projectScope } from '../permissions/grants';
import { createCourse, ds } from '../utils/course-accounts';
import { createTestApp, TestApp } from '../utils/test-app';

jest.setTimeout(60_000);

interface Member {
  principal_type: string;
  principal_id: string;
  username: string | null;
  first_name: string | null;
  last_name: string | null;
  email: string | null;
  name: string | null;
  roles: { role: string; group: string; group_name: string; expires_at: string | null }[];
}

describe('A project’s roster: GET /api/v1/projects/{id}/members', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  /** A user of the organization with names. */
  async function person(organizationId: string | null, first: string, last: string) {
    const user = await createUser(t, { organizationId });
    await ds(t).query('UPDATE users SET first_name = $2, last_name = $3 WHERE id = $1', [user.row.id, first, last]);
    return user;
  }

  /**
   * A course with a manager, a teaching assistant, a learner (also in a second learners' group), a
   * learner whose membership expired, a service account in a group, and a user of no organization.
   */
  async function course() {
    const org = await createOrganization(t);
    const project = await createCourse(t, org.id);
    const scope = projectScope(project);
    const manager = await person(org.id, 'Ada', 'Lovelace');
    const assistant = await person(org.id, 'Alan', 'Turing');
    const learner = await person(org.id, 'Grace', 'Hopper');
    const expired = await person(org.id, 'Gone', 'Already');
    const guest = await person(null, 'Edsger', 'Dijkstra');
    const managers = await grantRole(t, manager.principal, 'project_manager', scope, { name: 'Instructors' });
    await grantRole(t, assistant.principal, 'project_contributor', scope, { name: 'Assistants' });
    const learners = await grantRole(t, learner.principal, 'project_member', scope, { name: 'Learners' });
    await grantRole(t, learner.principal, 'project_member', scope, { name: 'Lab group' });
    await grantRole(t, expired.principal, 'project_member', scope, { expiresAt: new Date(Date.now() - 60_000) });
    await ds(t).query(
      `INSERT INTO group_memberships (group_id, principal_type, principal_id) VALUES ($1, 'user', $2)`,
      [learners, guest.row.id],
    );
    const grader = await createServiceAccount(t, org.id);
    await ds(t).query(
      `INSERT INTO group_memberships (group_id, principal_type, principal_id) VALUES ($1, 'service_account', $2)`,
      [managers, grader.row.id],
    );
    // Another project's member is no member of this one.
    const other = await createCourse(t, org.id);
    await grantRole(t, (await person(org.id, 'Other', 'Course')).principal, 'project_member', projectScope(other));
    return { org, project, manager, assistant, learner, expired, guest, grader, other };
  }

  const roster = (projectId: string, auth: { Authorization: string }, query = '') =>
    t.http.get(`/api/v1/projects/${projectId}/members${query}`).set(auth);

  it('gives a project manager every live member with names and roles, ordered by name; e-mails only of users it may read', async () => {
    const c = await course();
    const res = await roster(c.project.id, c.manager.auth).expect(200);
    const members = res.body.results as Member[];
    expect(res.body.count).toBe(5);
    // By last name (a service account by its name): Dijkstra, Hopper, Lovelace, <svc-…>, Turing…
    expect(members.map((m) => m.last_name ?? m.name)).toEqual(
      [...members.map((m) => m.last_name ?? m.name)].sort((a, b) => a!.toLowerCase().localeCompare(b!.toLowerCase())),
    );
    expect(members.map((m) => m.principal_id)).not.toContain(c.expired.row.id);
    const learner = members.find((m) => m.principal_id === c.learner.row.id)!;
    expect(learner).toEqual({
      principal_type: 'user',
      principal_id: c.learner.row.id,
      username: c.learner.row.username,
      first_name: 'Grace',
      last_name: 'Hopper',
      // A project manager does not read the organization's users (GET /users/{id} is 404 to it).
      email: null,
      name: null,
      roles: [
        { role: 'project_member', group: expect.any(String), group_name: 'Lab group', expires_at: null },
        { role: 'project_member', group: expect.any(String), group_name: 'Learners', expires_at: null },
      ],
    });
    await t.http.get(`/api/v1/users/${c.learner.row.id}`).set(c.manager.auth).expect(404);
    // Its own row it reads, and so its own e-mail.
    expect(members.find((m) => m.principal_id === c.manager.row.id)).toMatchObject({
      email: c.manager.row.email,
      roles: [expect.objectContaining({ role: 'project_manager', group_name: 'Instructors' })],
    });
    expect(members.find((m) => m.principal_id === c.grader.row.id)).toMatchObject({
      principal_type: 'service_account',
      username: null,
      first_name: null,
      last_name: null,
      email: null,
      name: c.grader.row.name,
      roles: [expect.objectContaining({ role: 'project_manager' })],
    });
    expect(members.map((m) => m.roles.map((r) => r.role))).not.toContainEqual([]);
    expect(JSON.stringify(res.body)).not.toContain(c.learner.row.email!);
    expect(JSON.stringify(res.body)).not.toContain(c.assistant.row.email!);
  });

  it('shows an organization admin the e-mails of the organization’s users, not of a user of no organization; staff sees them all', async () => {
    const c = await course();
    const admin = await createUser(t, { organizationId: c.org.id });
    await grantRole(t, admin.principal, 'organization_admin', orgScope(c.org));
    const byAdmin = (await roster(c.project.id, admin.auth).expect(200)).body.results as Member[];
    const email = (members: Member[], id: string) => members.find((m) => m.principal_id === id)!.email;
    expect(email(byAdmin, c.learner.row.id)).toBe(c.learner.row.email);
    expect(email(byAdmin, c.assistant.row.id)).toBe(c.assistant.row.email);
    expect(email(byAdmin, c.guest.row.id)).toBeNull();
    await t.http.get(`/api/v1/users/${c.guest.row.id}`).set(admin.auth).expect(404);
    const staff = await createStaff(t);
    const byStaff = (await roster(c.project.id, staff.auth).expect(200)).body.results as Member[];
    expect(email(byStaff, c.guest.row.id)).toBe(c.guest.row.email);
  });

  it('is read by a teaching assistant and through an LTI launch’s session token', async () => {
    const c = await course();
    const byAssistant = await roster(c.project.id, c.assistant.auth).expect(200);
    expect(byAssistant.body.count).toBe(5);
    const { token } = await t.app
      .get(TokenIssuer)
      .ltiSessionToken(c.manager.row.id, c.manager.row.username, { lti_platform: randomUUID() }, randomUUID());
    const byLaunch = await roster(c.project.id, { Authorization: `Bearer ${token}` }).expect(200);
    expect((byLaunch.body.results as Member[]).map((m) => m.principal_id).sort()).toEqual(
      (byAssistant.body.results as Member[]).map((m) => m.principal_id).sort(),
    );
  });

  it('refuses a learner with 403 and hides the project from outsiders with 404', async () => {
    const c = await course();
    const asLearner = await roster(c.project.id, c.learner.auth).expect(403);
    expect(asLearner.body).toMatchObject({ error: 'forbidden', details: { action: 'read_members' } });
    // The learner reads the project itself.
    await t.http.get(`/api/v1/projects/${c.project.id}`).set(c.learner.auth).expect(200);
    // Its membership expired: the project is not visible any more.
    expect((await roster(c.project.id, c.expired.auth).expect(404)).body.error).toBe('not_found');
    // The manager of another project of the same organization, an admin of another organization, a user without roles.
    const otherManager = await createUser(t, { organizationId: c.org.id });
    await grantRole(t, otherManager.principal, 'project_manager', projectScope(c.other));
    await roster(c.project.id, otherManager.auth).expect(404);
    const elsewhere = await createOrganization(t);
    const foreignAdmin = await createUser(t, { organizationId: elsewhere.id });
    await grantRole(t, foreignAdmin.principal, 'organization_admin', orgScope(elsewhere));
    await roster(c.project.id, foreignAdmin.auth).expect(404);
    await roster(c.project.id, (await createUser(t, { organizationId: c.org.id })).auth).expect(404);
    // No such project and a deleted one are 404 alike; a malformed id is 400; no token is 401.
    await roster(randomUUID(), c.manager.auth).expect(404);
    await ds(t).query('UPDATE projects SET deleted_at = now() WHERE id = $1', [c.project.id]);
    await roster(c.project.id, c.manager.auth).expect(404);
    await roster('not-a-uuid', c.manager.auth).expect(400);
    await t.http.get(`/api/v1/projects/${c.project.id}/members`).expect(401);
  });

  it('filters by role (keeping each member’s other roles), pages, and refuses an unknown role with 400', async () => {
    const c = await course();
    await grantRole(t, c.learner.principal, 'project_contributor', projectScope(c.project), { name: 'Tutors' });
    const contributors = await roster(c.project.id, c.manager.auth, '?role=project_contributor').expect(200);
    expect((contributors.body.results as Member[]).map((m) => [m.last_name, m.roles.map((r) => r.role)])).toEqual([
      ['Hopper', ['project_contributor', 'project_member', 'project_member']],
      ['Turing', ['project_contributor']],
    ]);
    const first = await roster(c.project.id, c.manager.auth, '?page_size=2').expect(200);
    expect(first.body).toMatchObject({ count: 5, previous: null, next: expect.stringContaining('page=2') });
    const last = await roster(c.project.id, c.manager.auth, '?page_size=2&page=3').expect(200);
    expect(last.body.results).toHaveLength(1);
    expect(last.body.next).toBeNull();
    const pages = [
      ...first.body.results,
      ...(await roster(c.project.id, c.manager.auth, '?page_size=2&page=2')).body.results,
      ...last.body.results,
    ];
    expect(new Set(pages.map((m: Member) => m.principal_id)).size).toBe(5);
    const past = await roster(c.project.id, c.manager.auth, '?page_size=2&page=9').expect(200);
    expect(past.body).toMatchObject({ count: 5, results: [] });
    const bad = await roster(c.project.id, c.manager.auth, '?role=organization_admin').expect(400);
    expect(bad.body.error).toBe('validation_failed');
  });
});
