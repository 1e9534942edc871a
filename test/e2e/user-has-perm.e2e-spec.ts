import { DataSource } from 'typeorm';
import { AuditService } from '../../src/accounts/audit/audit.service';
import { CourseAccount } from '../../src/course-accounts/course-account.entity';
import {
  createOrganization,
  createProject,
  createServiceAccount,
  createUser,
  unique,
  type Authenticated,
} from '../factories/accounts';
import { grantRole, orgScope, projectScope } from '../permissions/grants';
import { createCourse } from '../utils/course-accounts';
import { createTestApp, TestApp } from '../utils/test-app';

/**
 * `?user_has_perm=ACTION` on every scoped list: the rows the caller may read and may also do the
 * action on. Each list: a caller that reads a row but may not update it sees it without the
 * parameter and not with `update`; a caller that may update it sees it with `update`; an unknown
 * action is 400 `validation_failed`.
 */
describe('?user_has_perm on every scoped list', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  const db = () => t.app.get(DataSource);

  async function ids(path: string, who: Authenticated<unknown>, query: Record<string, string> = {}): Promise<string[]> {
    const res = await t.http.get(path).query(query).set(who.auth).expect(200);
    return (res.body.results as { id?: string; job_id?: string }[]).map((r) => (r.id ?? r.job_id)!);
  }

  /** Checks one list: `reader` sees `id` but not with update, `updater` sees it with update. */
  async function expectFiltered(
    path: string,
    id: string,
    reader: Authenticated<unknown>,
    updater: Authenticated<unknown>,
    filter: Record<string, string> = {},
  ) {
    expect(await ids(path, reader, filter)).toContain(id);
    expect(await ids(path, reader, { ...filter, user_has_perm: 'update' })).not.toContain(id);
    expect(await ids(path, reader, { ...filter, user_has_perm: 'read' })).toContain(id);
    expect(await ids(path, updater, { ...filter, user_has_perm: 'update' })).toContain(id);
    const bad = await t.http.get(path).query({ user_has_perm: 'fly' }).set(reader.auth).expect(400);
    expect(bad.body.error).toBe('validation_failed');
  }

  it('organizations: a course account manager reads its organization but does not update it', async () => {
    const org = await createOrganization(t);
    const reader = await createUser(t);
    await grantRole(t, reader.principal, 'course_account_manager', orgScope(org));
    const admin = await createUser(t);
    await grantRole(t, admin.principal, 'organization_admin', orgScope(org));
    await expectFiltered('/api/v1/organizations', org.id, reader, admin);
  });

  it('projects: a project member reads the project, its manager updates it', async () => {
    const org = await createOrganization(t);
    const project = await createProject(t, org.id);
    const member = await createUser(t);
    await grantRole(t, member.principal, 'project_member', projectScope(project));
    const manager = await createUser(t);
    await grantRole(t, manager.principal, 'project_manager', projectScope(project));
    await expectFiltered('/api/v1/projects', project.id, member, manager, { organization: org.id });
  });

  it('users: support reads every user, the organization admin updates its own', async () => {
    const org = await createOrganization(t);
    const user = await createUser(t, { organizationId: org.id });
    const support = await createUser(t, { isSupport: true });
    const admin = await createUser(t);
    await grantRole(t, admin.principal, 'organization_admin', orgScope(org));
    await expectFiltered('/api/v1/users', user.row.id, support, admin, { organization: org.id });
    // A user reads its own row but may not update it through the users API.
    expect(await ids('/api/v1/users', user)).toEqual([user.row.id]);
    expect(await ids('/api/v1/users', user, { user_has_perm: 'update' })).toEqual([]);
  });

  it('service accounts: a service account reads itself, the organization admin updates it', async () => {
    const org = await createOrganization(t);
    const account = await createServiceAccount(t, org.id);
    const admin = await createUser(t);
    await grantRole(t, admin.principal, 'organization_admin', orgScope(org));
    await expectFiltered('/api/v1/service-accounts', account.row.id, account, admin, { organization: org.id });
  });

  it('groups: a project member reads the project groups, the project manager updates them', async () => {
    const org = await createOrganization(t);
    const project = await createProject(t, org.id);
    const member = await createUser(t);
    const groupId = await grantRole(t, member.principal, 'project_member', projectScope(project));
    const manager = await createUser(t);
    await grantRole(t, manager.principal, 'project_manager', projectScope(project));
    await expectFiltered('/api/v1/groups', groupId, member, manager, { scope_id: project.id });
  });

  it('course accounts: a project member reads them, a contributor updates them', async () => {
    const org = await createOrganization(t);
    const project = await createCourse(t, org.id);
    const member = await createUser(t);
    await grantRole(t, member.principal, 'project_member', projectScope(project));
    const contributor = await createUser(t);
    await grantRole(t, contributor.principal, 'project_contributor', projectScope(project));
    const email = `${unique('ca')}@example.edu`;
    const created = await t.http
      .post('/api/v1/course-accounts')
      .set(contributor.auth)
      .send({ project: project.id, email })
      .expect(201);
    const id = created.body.id as string;
    expect(await db().getRepository(CourseAccount).countBy({ id })).toBe(1);
    await expectFiltered('/api/v1/course-accounts', id, member, contributor, { project: project.id });
  });

  it('jobs: support reads every job, its owner cancels it, nobody but staff updates it', async () => {
    const owner = await createUser(t);
    const support = await createUser(t, { isSupport: true });
    const staff = await createUser(t, { isStaff: true });
    const [{ id }] = await db().query(
      `INSERT INTO jobs (name, owner_type, owner_id, payload, state) VALUES ('users.export', 'user', $1, '{}', 'Succeeded') RETURNING id`,
      [owner.row.id],
    );
    await expectFiltered('/api/v1/jobs', id, support, staff, { name: 'users.export' });
    expect(await ids('/api/v1/jobs', owner, { user_has_perm: 'cancel' })).toEqual([id]);
    expect(await ids('/api/v1/jobs', owner, { user_has_perm: 'update' })).toEqual([]);
  });

  it('audit events: support reads them, staff may do anything with them', async () => {
    const org = await createOrganization(t);
    const subjectId = (await createProject(t, org.id)).id;
    await t.app
      .get(AuditService)
      .record({ action: 'project.created', subjectType: 'Project', subjectId, organizationId: org.id });
    const [{ id }] = await db().query('SELECT id FROM audit_events WHERE subject_id = $1', [subjectId]);
    const support = await createUser(t, { isSupport: true });
    const staff = await createUser(t, { isStaff: true });
    await expectFiltered('/api/v1/audit-events', id, support, staff, { subject_id: subjectId });
    // The organization's admin reads and (through manage) may do every action on its events.
    const admin = await createUser(t);
    await grantRole(t, admin.principal, 'organization_admin', orgScope(org));
    expect(await ids('/api/v1/audit-events', admin, { subject_id: subjectId, user_has_perm: 'export' })).toEqual([id]);
  });
});
