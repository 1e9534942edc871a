import { createMongoAbility } from '@casl/ability';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { DataSource } from 'typeorm';
import { GroupsService } from '../../src/permissions/groups/groups.service';
import { MembershipsService } from '../../src/permissions/groups/memberships.service';
import { PERMISSIONS_AUDIT_EVENT, PermissionsAuditEvent } from '../../src/permissions/permissions.events';
import {
  createOrganization,
  createProject,
  createServiceAccount,
  createStaff,
  createUser,
} from '../factories/accounts';
import { grantRole, orgScope, projectScope } from '../permissions/grants';
import { AuditListenerModule, AuditRowWriter } from '../permissions/audit-listener.module';
import { activationRow, postActivationRecords } from '../utils/activation';
import { day } from '../utils/course-accounts';
import { createTestApp, TestApp } from '../utils/test-app';

describe('Groups API', () => {
  let t: TestApp;
  const events: PermissionsAuditEvent[] = [];
  beforeAll(async () => {
    t = await createTestApp({ imports: [AuditListenerModule] });
    t.app.get(EventEmitter2).on(PERMISSIONS_AUDIT_EVENT, (e: PermissionsAuditEvent) => void events.push(e));
  });
  afterAll(() => t.close());

  const eventsFor = (groupId: string) =>
    events.filter((e) => e.subjectId === groupId).map((e) => ({ action: e.action, data: e.data }));

  /** An organization with a project and a user who manages that project. */
  async function projectWithManager() {
    const org = await createOrganization(t);
    const project = await createProject(t, org.id);
    const manager = await createUser(t);
    await grantRole(t, manager.principal, 'project_manager', projectScope(project));
    return { org, project, manager };
  }

  it('lets a project manager create a group in its project, add a member with an expiry and remove it, auditing each change', async () => {
    const { project, manager } = await projectWithManager();
    const member = await createUser(t);
    const created = await t.http
      .post('/api/v1/groups')
      .set(manager.auth)
      .send({ name: 'TAs', scope_type: 'project', scope_id: project.id, role: 'project_contributor' })
      .expect(201);
    expect(created.body).toMatchObject({
      name: 'TAs',
      scope_type: 'project',
      scope_id: project.id,
      role: 'project_contributor',
      organization_id: project.organizationId,
    });
    const groupId = created.body.id as string;

    const expiresAt = new Date(Date.now() + 86_400_000).toISOString();
    const added = await t.http
      .post(`/api/v1/groups/${groupId}/members`)
      .set(manager.auth)
      .send({ principal_type: 'user', principal_id: member.row.id, expires_at: expiresAt })
      .expect(201);
    expect(added.body).toMatchObject({
      principal_type: 'user',
      principal_id: member.row.id,
      active: true,
      expires_at: expiresAt,
    });

    const listed = await t.http.get(`/api/v1/groups/${groupId}/members`).set(manager.auth).expect(200);
    expect(listed.body.count).toBe(1);
    // The member now reads the project's groups through its new role.
    const seen = await t.http.get(`/api/v1/groups?scope_id=${project.id}`).set(member.auth).expect(200);
    expect(seen.body.results.map((g: { id: string }) => g.id)).toContain(groupId);

    await t.http
      .patch(`/api/v1/groups/${groupId}/members/user/${member.row.id}`)
      .set(manager.auth)
      .send({ expires_at: null })
      .expect(200);
    await t.http.delete(`/api/v1/groups/${groupId}/members/user/${member.row.id}`).set(manager.auth).expect(204);
    await t.http.delete(`/api/v1/groups/${groupId}/members/user/${member.row.id}`).set(manager.auth).expect(404);

    expect(eventsFor(groupId)).toEqual([
      { action: 'group.created', data: expect.objectContaining({ role: 'project_contributor', scope_id: project.id }) },
      {
        action: 'group.member_added',
        data: expect.objectContaining({ principal_id: member.row.id, expires_at: new Date(expiresAt) }),
      },
      { action: 'group.member_expiry_changed', data: expect.objectContaining({ from: new Date(expiresAt), to: null }) },
      { action: 'group.member_removed', data: expect.objectContaining({ principal_id: member.row.id }) },
    ]);
    const event = events.find((e) => e.subjectId === groupId)!;
    expect(event).toMatchObject({
      actor: { type: 'user', id: manager.row.id },
      subjectType: 'Group',
      organizationId: project.organizationId,
    });
  });

  it('refuses a project manager an organization_admin group, and joining one', async () => {
    const { org, project, manager } = await projectWithManager();
    const asProjectGroup = await t.http
      .post('/api/v1/groups')
      .set(manager.auth)
      .send({ name: 'x', scope_type: 'project', scope_id: project.id, role: 'organization_admin' })
      .expect(400);
    expect(asProjectGroup.body.error).toBe('role_scope_mismatch');
    const asOrgGroup = await t.http
      .post('/api/v1/groups')
      .set(manager.auth)
      .send({ name: 'x', scope_type: 'organization', scope_id: org.id, role: 'organization_admin' })
      .expect(400);
    expect(asOrgGroup.body.error).toBe('unknown_scope');

    const admins = await grantRole(t, (await createUser(t)).principal, 'organization_admin', orgScope(org));
    const join = await t.http
      .post(`/api/v1/groups/${admins}/members`)
      .set(manager.auth)
      .send({ principal_type: 'user', principal_id: manager.row.id })
      .expect(404);
    expect(join.body.error).toBe('not_found');
    const { count } = (await t.http.get(`/api/v1/groups/${admins}/members`).set(manager.auth).expect(404)).body;
    expect(count).toBeUndefined();
    expect(eventsFor(admins)).toEqual([]);
  });

  it('lets a member read its project groups but not add members (403), and hides other projects (404)', async () => {
    const { project, manager } = await projectWithManager();
    const member = await createUser(t);
    const groupId = await grantRole(t, member.principal, 'project_member', projectScope(project));
    await t.http.get(`/api/v1/groups/${groupId}`).set(member.auth).expect(200);
    const add = await t.http
      .post(`/api/v1/groups/${groupId}/members`)
      .set(member.auth)
      .send({ principal_type: 'user', principal_id: member.row.id })
      .expect(403);
    expect(add.body.error).toBe('forbidden');
    await t.http.delete(`/api/v1/groups/${groupId}`).set(member.auth).expect(403);

    const other = await projectWithManager();
    const hidden = await grantRole(t, other.manager.principal, 'project_member', projectScope(other.project));
    await t.http.get(`/api/v1/groups/${hidden}`).set(member.auth).expect(404);
    await t.http.get(`/api/v1/groups/${hidden}`).set(manager.auth).expect(404);
    await t.http
      .post(`/api/v1/groups/${hidden}/members`)
      .set(manager.auth)
      .send({ principal_type: 'user', principal_id: manager.row.id })
      .expect(404);
    await t.http.patch(`/api/v1/groups/${hidden}`).set(manager.auth).send({ name: 'mine now' }).expect(404);
  });

  it('answers 404 for a group of another organization, even to that organization’s neighbour admin', async () => {
    const orgA = await createOrganization(t);
    const orgB = await createOrganization(t);
    const adminA = await createUser(t);
    await grantRole(t, adminA.principal, 'organization_admin', orgScope(orgA));
    const groupB = await grantRole(t, (await createUser(t)).principal, 'organization_admin', orgScope(orgB));
    const res = await t.http.get(`/api/v1/groups/${groupB}`).set(adminA.auth).expect(404);
    expect(res.body).toEqual({ error: 'not_found', message: 'Group not found.' });
    const list = await t.http.get(`/api/v1/groups?organization=${orgB.id}`).set(adminA.auth).expect(200);
    expect(list.body.count).toBe(0);
  });

  it('grants nothing through an expired membership, and again once the expiry moves', async () => {
    const org = await createOrganization(t);
    const project = await createProject(t, org.id);
    const user = await createUser(t);
    const groupId = await grantRole(t, user.principal, 'project_manager', projectScope(project), {
      expiresAt: new Date(Date.now() - 1000),
    });
    const refused = await t.http.get('/api/v1/groups').set(user.auth).expect(403);
    expect(refused.body.error).toBe('forbidden');
    await t.http.get(`/api/v1/groups/${groupId}`).set(user.auth).expect(404);

    const staff = await createStaff(t);
    const members = await t.http.get(`/api/v1/groups/${groupId}/members`).set(staff.auth).expect(200);
    expect(members.body.results[0]).toMatchObject({ principal_id: user.row.id, active: false });
    await t.http
      .patch(`/api/v1/groups/${groupId}/members/user/${user.row.id}`)
      .set(staff.auth)
      .send({ expires_at: new Date(Date.now() + 60_000).toISOString() })
      .expect(200);
    await t.http.get(`/api/v1/groups/${groupId}`).set(user.auth).expect(200);
    expect(eventsFor(groupId).map((e) => e.action)).toEqual(['group.member_expiry_changed']);
  });

  it('validates the scope, the role and the principal', async () => {
    const { org, project, manager } = await projectWithManager();
    const staff = await createStaff(t);
    const send = (auth: Record<string, string>, body: object) => t.http.post('/api/v1/groups').set(auth).send(body);
    const ghost = '00000000-0000-4000-8000-000000000001';

    expect(
      (
        await send(staff.auth, { name: 'g', scope_type: 'project', scope_id: ghost, role: 'project_member' }).expect(
          400,
        )
      ).body.error,
    ).toBe('unknown_scope');
    expect(
      (
        await send(staff.auth, {
          name: 'g',
          scope_type: 'organization',
          scope_id: ghost,
          role: 'organization_admin',
        }).expect(400)
      ).body.error,
    ).toBe('unknown_scope');
    expect(
      (
        await send(staff.auth, {
          name: 'g',
          scope_type: 'program',
          scope_id: ghost,
          role: 'program_read_reports',
        }).expect(400)
      ).body.error,
    ).toBe('unknown_scope');
    const unknownRole = await send(staff.auth, {
      name: 'g',
      scope_type: 'project',
      scope_id: project.id,
      role: 'god',
    }).expect(400);
    expect(unknownRole.body).toMatchObject({
      error: 'unknown_role',
      details: { roles: expect.arrayContaining(['project_manager']) },
    });
    const mismatch = await send(staff.auth, {
      name: 'g',
      scope_type: 'organization',
      scope_id: org.id,
      role: 'project_member',
    }).expect(400);
    expect(mismatch.body.error).toBe('role_scope_mismatch');
    expect(
      (await send(staff.auth, { name: 'g', scope_type: 'team', scope_id: org.id, role: 'project_member' }).expect(400))
        .body.error,
    ).toBe('validation_failed');

    // A deleted project is no scope.
    const gone = await createProject(t, org.id);
    await t.app.get(DataSource).query('UPDATE projects SET deleted_at = now() WHERE id = $1', [gone.id]);
    expect(
      (
        await send(staff.auth, { name: 'g', scope_type: 'project', scope_id: gone.id, role: 'project_member' }).expect(
          400,
        )
      ).body.error,
    ).toBe('unknown_scope');

    const group = (
      await send(manager.auth, {
        name: 'g',
        scope_type: 'project',
        scope_id: project.id,
        role: 'project_member',
      }).expect(201)
    ).body;
    const unknown = await t.http
      .post(`/api/v1/groups/${group.id}/members`)
      .set(manager.auth)
      .send({ principal_type: 'user', principal_id: ghost })
      .expect(400);
    expect(unknown.body.error).toBe('unknown_principal');
    await t.http
      .post(`/api/v1/groups/${group.id}/members`)
      .set(manager.auth)
      .send({ principal_type: 'user', principal_id: manager.row.id })
      .expect(201);
    const again = await t.http
      .post(`/api/v1/groups/${group.id}/members`)
      .set(manager.auth)
      .send({ principal_type: 'user', principal_id: manager.row.id })
      .expect(409);
    expect(again.body.error).toBe('already_member');
  });

  it('leaves a name or description sent as null as it is, like the other PATCH routes, never a 500', async () => {
    const { project, manager } = await projectWithManager();
    const body = {
      name: 'TAs',
      scope_type: 'project',
      scope_id: project.id,
      role: 'project_member',
      description: 'Teaching assistants',
    };
    const group = (await t.http.post('/api/v1/groups').set(manager.auth).send(body).expect(201)).body;
    const res = await t.http
      .patch(`/api/v1/groups/${group.id}`)
      .set(manager.auth)
      .send({ name: null, description: null });
    expect({ status: res.status, name: res.body.name, description: res.body.description }).toEqual({
      status: 200,
      name: 'TAs',
      description: 'Teaching assistants',
    });
    const renamed = await t.http
      .patch(`/api/v1/groups/${group.id}`)
      .set(manager.auth)
      .send({ name: 'Tutors', description: null })
      .expect(200);
    expect(renamed.body).toMatchObject({ name: 'Tutors', description: 'Teaching assistants' });
  });

  it('answers an expiry it cannot read with 400 validation_failed, never a 500', async () => {
    const { project, manager } = await projectWithManager();
    const member = await createUser(t);
    const group = (
      await t.http
        .post('/api/v1/groups')
        .set(manager.auth)
        .send({ name: 'g', scope_type: 'project', scope_id: project.id, role: 'project_member' })
        .expect(201)
    ).body;
    for (const expiresAt of ['2030-01-01T10', '2030-W01', '2030-02-30T00:00:00Z']) {
      const added = await t.http
        .post(`/api/v1/groups/${group.id}/members`)
        .set(manager.auth)
        .send({ principal_type: 'user', principal_id: member.row.id, expires_at: expiresAt });
      expect({ expiresAt, status: added.status, error: added.body.error }).toEqual({
        expiresAt,
        status: 400,
        error: 'validation_failed',
      });
    }
    await t.http
      .post(`/api/v1/groups/${group.id}/members`)
      .set(manager.auth)
      .send({ principal_type: 'user', principal_id: member.row.id })
      .expect(201);
    const changed = await t.http
      .patch(`/api/v1/groups/${group.id}/members/user/${member.row.id}`)
      .set(manager.auth)
      .send({ expires_at: '2030-W01-1' });
    expect({ status: changed.status, error: changed.body.error }).toEqual({ status: 400, error: 'validation_failed' });
  });

  it("refuses an organization admin adding another organization's user exactly as an unknown id, and lets staff add them", async () => {
    const org = await createOrganization(t);
    const admin = await createUser(t, { organizationId: org.id });
    await grantRole(t, admin.principal, 'organization_admin', orgScope(org));
    const group = (
      await t.http
        .post('/api/v1/groups')
        .set(admin.auth)
        .send({ name: 'org group', scope_type: 'organization', scope_id: org.id, role: 'organization_admin' })
        .expect(201)
    ).body;
    const outsider = await createUser(t, { organizationId: (await createOrganization(t)).id });
    const add = (principalId: string, auth: Record<string, string>) =>
      t.http
        .post(`/api/v1/groups/${group.id}/members`)
        .set(auth)
        .send({ principal_type: 'user', principal_id: principalId });
    const foreign = await add(outsider.row.id, admin.auth).expect(400);
    const ghostId = '00000000-0000-4000-8000-00000000abcd';
    const ghost = await add(ghostId, admin.auth).expect(400);
    expect(foreign.body.error).toBe('unknown_principal');
    expect({
      ...foreign.body,
      message: foreign.body.message.replace(outsider.row.id, 'ID'),
      details: undefined,
    }).toEqual({
      ...ghost.body,
      message: ghost.body.message.replace(ghostId, 'ID'),
      details: undefined,
    });
    const [{ n }] = await t.app
      .get(DataSource)
      .query('SELECT count(*)::int AS n FROM group_memberships WHERE principal_id = $1', [outsider.row.id]);
    expect(n).toBe(0);
    const staff = await createStaff(t);
    await add(outsider.row.id, staff.auth).expect(201);
  });

  it('lets a service account manage groups only through its own roles, and only with its organization’s accounts', async () => {
    const org = await createOrganization(t);
    const project = await createProject(t, org.id);
    const sa = await createServiceAccount(t, org.id);
    const body = { name: 'from a robot', scope_type: 'project', scope_id: project.id, role: 'project_member' };
    expect((await t.http.post('/api/v1/groups').set(sa.auth).send(body).expect(403)).body.error).toBe('forbidden');

    await grantRole(t, sa.principal, 'organization_admin', orgScope(org));
    const group = (await t.http.post('/api/v1/groups').set(sa.auth).send(body).expect(201)).body;
    const foreign = await createServiceAccount(t, (await createOrganization(t)).id);
    const res = await t.http
      .post(`/api/v1/groups/${group.id}/members`)
      .set(sa.auth)
      .send({ principal_type: 'service_account', principal_id: foreign.row.id })
      .expect(400);
    expect(res.body.error).toBe('unknown_principal');
    const local = await createServiceAccount(t, org.id);
    await t.http
      .post(`/api/v1/groups/${group.id}/members`)
      .set(sa.auth)
      .send({ principal_type: 'service_account', principal_id: local.row.id })
      .expect(201);
  });

  it('lists groups scoped in SQL, with filters and user_has_perm', async () => {
    const org = await createOrganization(t);
    const [p1, p2, p3] = [
      await createProject(t, org.id),
      await createProject(t, org.id),
      await createProject(t, org.id),
    ];
    const user = await createUser(t);
    const managed = await grantRole(t, user.principal, 'project_manager', projectScope(p1));
    const readOnly = await grantRole(t, user.principal, 'project_member', projectScope(p2));
    await grantRole(t, (await createUser(t)).principal, 'project_member', projectScope(p3));
    const extra = await grantRole(t, (await createUser(t)).principal, 'project_contributor', projectScope(p1));

    const ids = async (query: string) =>
      ((await t.http.get(`/api/v1/groups${query}`).set(user.auth).expect(200)).body.results as { id: string }[])
        .map((g) => g.id)
        .sort();
    expect(await ids('')).toEqual([managed, readOnly, extra].sort());
    expect(await ids('?user_has_perm=manage_members')).toEqual([managed, extra].sort());
    expect(await ids(`?scope_id=${p2.id}`)).toEqual([readOnly]);
    expect(await ids('?role=project_contributor')).toEqual([extra]);
    expect(await ids('?scope_type=organization')).toEqual([]);
    const page = await t.http.get('/api/v1/groups?page_size=2').set(user.auth).expect(200);
    expect(page.body).toMatchObject({ count: 3, results: expect.any(Array), next: expect.stringContaining('page=2') });
    expect((await t.http.get('/api/v1/groups?user_has_perm=fly').set(user.auth).expect(400)).body.error).toBe(
      'validation_failed',
    );
  });

  it('deletes a group with its memberships, listing every revocation in the audit event', async () => {
    const { project, manager } = await projectWithManager();
    const a = await createUser(t);
    const b = await createUser(t);
    const groupId = await grantRole(t, a.principal, 'project_member', projectScope(project));
    await t.http
      .post(`/api/v1/groups/${groupId}/members`)
      .set(manager.auth)
      .send({ principal_type: 'user', principal_id: b.row.id })
      .expect(201);
    await t.http.delete(`/api/v1/groups/${groupId}`).set(manager.auth).expect(204);
    await t.http.get(`/api/v1/groups/${groupId}`).set(manager.auth).expect(404);
    const [count] = await t.app
      .get(DataSource)
      .query('SELECT count(*)::int AS n FROM group_memberships WHERE group_id = $1', [groupId]);
    expect(count.n).toBe(0);
    const deleted = eventsFor(groupId).find((e) => e.action === 'group.deleted')!;
    expect(deleted.data.revoked).toEqual([
      { principal_type: 'user', principal_id: a.row.id },
      { principal_type: 'user', principal_id: b.row.id },
    ]);
  });

  it('writes the audit row in the transaction of the change, and rolls the change back when the audit write fails', async () => {
    const { project, manager } = await projectWithManager();
    const ds = t.app.get(DataSource);
    const kept = await t.http
      .post('/api/v1/groups')
      .set(manager.auth)
      .send({ name: 'kept', scope_type: 'project', scope_id: project.id, role: 'project_member' })
      .expect(201);
    const audit = await ds.query(
      'SELECT actor_id, action, organization_id, data FROM audit_events WHERE subject_id = $1',
      [kept.body.id],
    );
    expect(audit).toEqual([
      {
        actor_id: manager.row.id,
        action: 'group.created',
        organization_id: project.organizationId,
        data: expect.objectContaining({ role: 'project_member' }),
      },
    ]);

    t.app.get(AuditRowWriter).failNext = true;
    await t.http
      .post('/api/v1/groups')
      .set(manager.auth)
      .send({ name: 'lost', scope_type: 'project', scope_id: project.id, role: 'project_member' })
      .expect(500);
    const [row] = await ds.query("SELECT count(*)::int AS n FROM groups WHERE scope_id = $1 AND name = 'lost'", [
      project.id,
    ]);
    expect(row.n).toBe(0);
  });

  it('lets support read every group and change none', async () => {
    const { project } = await projectWithManager();
    const support = await createUser(t, { isSupport: true });
    const groupId = await grantRole(t, (await createUser(t)).principal, 'project_member', projectScope(project));
    await t.http.get(`/api/v1/groups/${groupId}`).set(support.auth).expect(200);
    await t.http.get(`/api/v1/groups/${groupId}/members`).set(support.auth).expect(200);
    expect(
      (await t.http.patch(`/api/v1/groups/${groupId}`).set(support.auth).send({ name: 'x' }).expect(403)).body.error,
    ).toBe('forbidden');
    expect(
      (
        await t.http
          .post(`/api/v1/groups/${groupId}/members`)
          .set(support.auth)
          .send({ principal_type: 'user', principal_id: support.row.id })
          .expect(403)
      ).body.error,
    ).toBe('forbidden');
    await t.http
      .post('/api/v1/groups')
      .set(support.auth)
      .send({ name: 'x', scope_type: 'project', scope_id: project.id, role: 'project_member' })
      .expect(403);
  });

  it('refuses to hand out a role whose permissions the caller lacks (role_escalation)', async () => {
    const { project, manager } = await projectWithManager();
    // An ability that may manage the project's groups but holds no course-account rights.
    const ability = createMongoAbility([
      { action: 'manage', subject: 'Group', conditions: { scopeType: 'project', scopeId: project.id } },
      { action: 'read', subject: 'Project', conditions: { id: project.id } },
      { action: 'read', subject: 'CourseAccount', conditions: { projectId: project.id } },
    ]);
    const groups = t.app.get(GroupsService);
    await expect(
      groups.create(manager.principal, ability, {
        name: 'x',
        scope_type: 'project',
        scope_id: project.id,
        role: 'project_course_account_manager',
      }),
    ).rejects.toMatchObject({
      code: 'role_escalation',
      details: { missing: [{ action: 'manage', subject: 'CourseAccount' }] },
    });
    const groupId = await grantRole(t, manager.principal, 'project_contributor', projectScope(project));
    await expect(
      t.app
        .get(MembershipsService)
        .addMember(manager.principal, ability, groupId, { principal_type: 'user', principal_id: manager.row.id }),
    ).rejects.toMatchObject({
      code: 'role_escalation',
    });
    await expect(groups.update(manager.principal, ability, groupId, { role: 'project_member' })).rejects.toMatchObject({
      code: 'role_escalation',
    });
    await expect(
      groups.create(manager.principal, ability, {
        name: 'ok',
        scope_type: 'project',
        scope_id: project.id,
        role: 'project_member',
      }),
    ).resolves.toMatchObject({
      role: 'project_member',
    });
  });

  it('lists the roles and tells the caller what it may do on an object', async () => {
    const { org, project, manager } = await projectWithManager();
    const roles = await t.http.get('/api/v1/roles').set(manager.auth).expect(200);
    expect(roles.body).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'project_manager', scope_type: 'project' })]),
    );

    const onProject = await t.http
      .get(`/api/v1/permissions?object_type=Project&object_id=${project.id}`)
      .set(manager.auth)
      .expect(200);
    expect(onProject.body).toEqual({
      object_type: 'Project',
      object_id: project.id,
      actions: ['read', 'update', 'read_members'],
    });
    const groupId = await grantRole(t, (await createUser(t)).principal, 'project_member', projectScope(project));
    const onGroup = await t.http
      .get(`/api/v1/permissions?object_type=Group&object_id=${groupId}`)
      .set(manager.auth)
      .expect(200);
    expect(onGroup.body.actions).toEqual(['read', 'create', 'update', 'delete', 'manage_members']);
    const onOrg = await t.http
      .get(`/api/v1/permissions?object_type=Organization&object_id=${org.id}`)
      .set(manager.auth)
      .expect(404);
    expect(onOrg.body.error).toBe('not_found');
    const me = await t.http
      .get(`/api/v1/permissions?object_type=User&object_id=${manager.row.id}`)
      .set(manager.auth)
      .expect(200);
    expect(me.body.actions).toEqual(['read']);
    await t.http.get(`/api/v1/permissions?object_type=Self&object_id=${manager.row.id}`).set(manager.auth).expect(400);
  });
});

describe('Groups API on the application as AppModule mounts it', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('checks every object in the service, with or without the authorization guard in front', async () => {
    const org = await createOrganization(t);
    const [mine, theirs] = [await createProject(t, org.id), await createProject(t, org.id)];
    const member = await createUser(t);
    const own = await grantRole(t, member.principal, 'project_member', projectScope(mine));
    const other = await grantRole(t, (await createUser(t)).principal, 'project_member', projectScope(theirs));
    await t.http.get(`/api/v1/groups/${own}`).set(member.auth).expect(200);
    await t.http.get(`/api/v1/groups/${other}`).set(member.auth).expect(404);
    await t.http
      .post(`/api/v1/groups/${own}/members`)
      .set(member.auth)
      .send({ principal_type: 'user', principal_id: member.row.id })
      .expect(403);
    const list = await t.http.get('/api/v1/groups').set(member.auth).expect(200);
    expect(list.body.results.map((g: { id: string }) => g.id)).toEqual([own]);
    await t.http.get('/api/v1/groups').expect(401);
  });

  it('tells the caller what it may do on a course account, an activation record and an audit event, 404 for what it cannot see', async () => {
    const org = await createOrganization(t);
    const project = await createProject(t, org.id, { kind: 'course', startDate: day(-10), endDate: day(30) });
    const manager = await createUser(t);
    await grantRole(t, manager.principal, 'project_manager', projectScope(project));
    const member = await createUser(t);
    await grantRole(t, member.principal, 'project_member', projectScope(project));
    const admin = await createUser(t);
    await grantRole(t, admin.principal, 'organization_admin', orgScope(org));
    const outsider = await createUser(t);
    await grantRole(t, outsider.principal, 'organization_admin', orgScope(await createOrganization(t)));
    const staff = await createStaff(t);
    const ask = (who: { auth: { Authorization: string } }, type: string, id: string) =>
      t.http.get(`/api/v1/permissions?object_type=${type}&object_id=${id}`).set(who.auth);

    const account = await t.http
      .post('/api/v1/course-accounts')
      .set(manager.auth)
      .send({ project: project.id })
      .expect(201);
    expect((await ask(manager, 'CourseAccount', account.body.id).expect(200)).body.actions).toEqual(
      expect.arrayContaining(['read', 'retry', 'close']),
    );
    expect((await ask(member, 'CourseAccount', account.body.id).expect(200)).body.actions).toEqual(['read']);
    expect((await ask(outsider, 'CourseAccount', account.body.id).expect(404)).body.error).toBe('not_found');

    const records = await postActivationRecords(t, admin.auth, org.id, [activationRow()]).expect(201);
    const recordId: string = records.body.results[0].id;
    expect((await ask(admin, 'ActivationRecord', recordId).expect(200)).body.actions).toContain('read');
    expect((await ask(outsider, 'ActivationRecord', recordId).expect(404)).body.error).toBe('not_found');

    const [{ id: eventId }] = await t.app
      .get(DataSource)
      .query(`SELECT id FROM audit_events WHERE action = 'activation_record.created' AND subject_id = $1`, [recordId]);
    expect((await ask(staff, 'AuditEvent', eventId).expect(200)).body.actions).toEqual(['read', 'export']);
    expect((await ask(outsider, 'AuditEvent', eventId).expect(404)).body.error).toBe('not_found');
  });
});
