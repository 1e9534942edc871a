import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { sha256Hex } from '../../src/common/crypto/secrets';
import { createOrganization, createServiceAccount, createStaff, createUser, unique } from '../factories/accounts';
import { listeningUrl, lockWaitersReach, whileHeld } from '../utils/held-rows';
import { createTestApp, TestApp } from '../utils/test-app';

describe('Authentication', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ settings: { LOGIN_RATE_LIMIT: '1000' } });
  });
  afterAll(() => t.close());

  const login = (body: object) => t.http.post('/api/v1/auth/login').send(body);
  const db = () => t.app.get(DataSource);

  /** RFC 6749 §5.1: a response carrying tokens is never cached. */
  function expectNotCached(res: { headers: Record<string, string> }): void {
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['pragma']).toBe('no-cache');
  }

  it('logs in with username or e-mail and returns a token pair', async () => {
    const { row } = await createUser(t, { password: 'correct horse battery', email: `${unique('m')}@example.edu` });
    const byName = await login({ username: row.username.toUpperCase(), password: 'correct horse battery' }).expect(200);
    expect(byName.body).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 900,
      refresh_token: expect.any(String),
    });
    expectNotCached(byName);
    expectNotCached(await login({ email: row.email, password: 'correct horse battery' }).expect(200));
    const me = await t.http
      .get('/api/v1/auth/me')
      .set('Authorization', `Bearer ${byName.body.access_token}`)
      .expect(200);
    expect(me.body).toMatchObject({ type: 'user', id: row.id, token_kind: 'user', is_staff: false });
  });

  it('gives the same 401 for an unknown user and a wrong password', async () => {
    const { row } = await createUser(t, { password: 'correct horse battery' });
    const wrong = await login({ username: row.username, password: 'nope nope nope' }).expect(401);
    const unknown = await login({ username: unique('ghost'), password: 'nope nope nope' }).expect(401);
    expect(wrong.body).toEqual(unknown.body);
    expect(wrong.body.error).toBe('invalid_credentials');
  });

  it('refuses an inactive user', async () => {
    const { row } = await createUser(t, { password: 'correct horse battery', isActive: false });
    await login({ username: row.username, password: 'correct horse battery' }).expect(401);
  });

  it('rotates refresh tokens and revokes the family when a rotated token is reused', async () => {
    const { row } = await createUser(t, { password: 'correct horse battery' });
    const first = (await login({ username: row.username, password: 'correct horse battery' }).expect(200)).body;
    const refreshed = await t.http
      .post('/api/v1/auth/refresh')
      .send({ refresh_token: first.refresh_token })
      .expect(200);
    expectNotCached(refreshed);
    const second = refreshed.body;
    expect(second.refresh_token).not.toBe(first.refresh_token);
    // Presented again after the grace (REFRESH_TOKEN_REUSE_GRACE_SECONDS, 5 s here) of its rotation.
    await db().query(`UPDATE refresh_tokens SET rotated_at = rotated_at - interval '6 seconds' WHERE token_hash = $1`, [
      sha256Hex(first.refresh_token),
    ]);
    const reuse = await t.http.post('/api/v1/auth/refresh').send({ refresh_token: first.refresh_token }).expect(401);
    expect(reuse.body.error).toBe('invalid_refresh_token');
    // The legitimate holder's newer token is revoked too.
    await t.http.post('/api/v1/auth/refresh').send({ refresh_token: second.refresh_token }).expect(401);
    const staff = await createStaff(t);
    const audit = await t.http
      .get(`/api/v1/audit-events?action=auth.refresh_reuse_detected&subject_id=${row.id}`)
      .set(staff.auth)
      .expect(200);
    expect(audit.body.count).toBe(1);
  });

  it('answers the same refresh token presented twice at once (two tabs) with two working pairs of one session', async () => {
    const { row } = await createUser(t, { password: 'correct horse battery' });
    const first = (await login({ username: row.username, password: 'correct horse battery' }).expect(200)).body;
    const url = `${await listeningUrl(t)}/api/v1/auth/refresh`;
    const both = await Promise.all(
      [1, 2].map(() =>
        fetch(url, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ refresh_token: first.refresh_token }),
        }).then(async (r) => ({ status: r.status, body: (await r.json()) as { refresh_token: string } })),
      ),
    );
    expect(both.map((r) => r.status)).toEqual([200, 200]);
    expect(both[0].body.refresh_token).not.toBe(both[1].body.refresh_token);
    // Neither tab lost its session: both successors rotate, in the login's family.
    for (const r of both) {
      await t.http.post('/api/v1/auth/refresh').send({ refresh_token: r.body.refresh_token }).expect(200);
    }
    const families = await db().query(`SELECT DISTINCT family_id FROM refresh_tokens WHERE user_id = $1`, [row.id]);
    expect(families).toHaveLength(1);
    const events = await db().query(
      `SELECT action FROM audit_events WHERE subject_id = $1 AND action LIKE 'auth.refresh%'`,
      [row.id],
    );
    expect(events.map((e: { action: string }) => e.action)).toEqual(['auth.refresh_repeated']);
    const logs = t.logs.join('\n');
    for (const token of [first.refresh_token, ...both.map((r) => r.body.refresh_token)])
      expect(logs).not.toContain(token);
  });

  it('logout revokes the token a refresh under way at the same moment hands out', async () => {
    const { row } = await createUser(t, { password: 'correct horse battery' });
    const first = (await login({ username: row.username, password: 'correct horse battery' }).expect(200)).body;
    const url = await listeningUrl(t);
    const post = (path: string) =>
      fetch(`${url}/api/v1/auth/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ refresh_token: first.refresh_token }),
      }).then(async (r) => ({
        status: r.status,
        body: r.status === 200 ? ((await r.json()) as { refresh_token: string }) : null,
      }));
    // The refresh has found the token and waits on it when the logout of the same login comes.
    const [refreshed, loggedOut] = await whileHeld(
      t,
      [['SELECT 1 FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE', [sha256Hex(first.refresh_token)]]],
      2,
      async () => {
        const refresh = post('refresh');
        await lockWaitersReach(t, 1);
        return [refresh, post('logout')];
      },
    ).then((p) => Promise.all(p));
    expect([refreshed.status, loggedOut.status]).toEqual([200, 204]);
    const again = await t.http
      .post('/api/v1/auth/refresh')
      .send({ refresh_token: refreshed.body!.refresh_token })
      .expect(401);
    expect(again.body.error).toBe('invalid_refresh_token');
  });

  it('logout revokes the refresh token', async () => {
    const { row } = await createUser(t, { password: 'correct horse battery' });
    const pair = (await login({ username: row.username, password: 'correct horse battery' }).expect(200)).body;
    await t.http.post('/api/v1/auth/logout').send({ refresh_token: pair.refresh_token }).expect(204);
    await t.http.post('/api/v1/auth/refresh').send({ refresh_token: pair.refresh_token }).expect(401);
  });

  it('answers a missing token with 401 and a Bearer challenge', async () => {
    const res = await t.http.get('/api/v1/auth/me').expect(401);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(res.body.error).toBe('unauthorized');
  });

  it('answers a garbage token with 401 invalid_token', async () => {
    const res = await t.http.get('/api/v1/auth/me').set('Authorization', 'Bearer not.a.jwt').expect(401);
    expect(res.headers['www-authenticate']).toMatch(/error="invalid_token"/);
  });

  it('lets a service account see itself through /auth/me', async () => {
    const org = await createOrganization(t);
    const sa = await createServiceAccount(t, org.id);
    const me = await t.http.get('/api/v1/auth/me').set(sa.auth).expect(200);
    expect(me.body).toMatchObject({
      type: 'service_account',
      id: sa.row.id,
      token_kind: 'service',
      organizations: [{ id: org.id, key: org.key, name: org.name }],
    });
  });
});

describe('/auth/me roles', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('lists the live roles of the caller and leaves out expired memberships', async () => {
    const org = await createOrganization(t);
    const staff = await createStaff(t);
    const user = await createUser(t, { organizationId: org.id });
    const live = await t.http
      .post('/api/v1/groups')
      .set(staff.auth)
      .send({ name: unique('admins'), scope_type: 'organization', scope_id: org.id, role: 'organization_admin' })
      .expect(201);
    await t.http
      .post(`/api/v1/groups/${live.body.id}/members`)
      .set(staff.auth)
      .send({ principal_type: 'user', principal_id: user.row.id })
      .expect(201);
    const old = await t.http
      .post('/api/v1/groups')
      .set(staff.auth)
      .send({
        name: unique('readers'),
        scope_type: 'organization',
        scope_id: org.id,
        role: 'organization_read_reports',
      })
      .expect(201);
    await t.http
      .post(`/api/v1/groups/${old.body.id}/members`)
      .set(staff.auth)
      .send({
        principal_type: 'user',
        principal_id: user.row.id,
        expires_at: new Date(Date.now() + 1500).toISOString(),
      })
      .expect(201);
    await new Promise((r) => setTimeout(r, 1600));
    const me = await t.http.get('/api/v1/auth/me').set(user.auth).expect(200);
    expect(me.body.roles).toEqual([
      { role: 'organization_admin', scope_type: 'organization', scope_id: org.id, organization: org.id },
    ]);
    expect(me.body.organizations).toEqual([{ id: org.id, key: org.key, name: org.name }]);
  });

  it('lists the organizations the caller holds roles in besides its own', async () => {
    const [home, other] = [await createOrganization(t), await createOrganization(t)];
    const staff = await createStaff(t);
    const user = await createUser(t, { organizationId: home.id });
    const group = await t.http
      .post('/api/v1/groups')
      .set(staff.auth)
      .send({
        name: unique('readers'),
        scope_type: 'organization',
        scope_id: other.id,
        role: 'organization_read_reports',
      })
      .expect(201);
    await t.http
      .post(`/api/v1/groups/${group.body.id}/members`)
      .set(staff.auth)
      .send({ principal_type: 'user', principal_id: user.row.id })
      .expect(201);
    const me = await t.http.get('/api/v1/auth/me').set(user.auth).expect(200);
    expect(me.body.organizations.map((o: { id: string }) => o.id)).toEqual([home.id, other.id]);
  });

  it('reads the caller and its live memberships in one statement, seeing a membership removed a moment before', async () => {
    const org = await createOrganization(t);
    const staff = await createStaff(t);
    const user = await createUser(t, { organizationId: org.id });
    const group = await t.http
      .post('/api/v1/groups')
      .set(staff.auth)
      .send({ name: unique('admins'), scope_type: 'organization', scope_id: org.id, role: 'organization_admin' })
      .expect(201);
    await t.http
      .post(`/api/v1/groups/${group.body.id}/members`)
      .set(staff.auth)
      .send({ principal_type: 'user', principal_id: user.row.id })
      .expect(201);
    await t.http.get('/api/v1/auth/me').set(user.auth).expect(200); // organization names are cached after this

    // Every statement the app sends goes through pg's Client#query.
    const sent: string[] = [];
    const query = Client.prototype.query;
    const spy = jest.spyOn(Client.prototype, 'query').mockImplementation(function (this: Client, ...args: unknown[]) {
      const config = args[0] as string | { text?: string };
      sent.push(typeof config === 'string' ? config : (config?.text ?? ''));
      return (query as (...a: unknown[]) => unknown).apply(this, args) as never;
    });
    try {
      const me = await t.http.get('/api/v1/auth/me').set(user.auth).expect(200);
      expect(me.body.roles).toEqual([
        { role: 'organization_admin', scope_type: 'organization', scope_id: org.id, organization: org.id },
      ]);
      const reads = sent.filter((text) => /\bFROM users\b|\bgroup_memberships\b/.test(text));
      expect(reads).toHaveLength(1);
      expect(reads[0]).toMatch(/\bgroup_memberships\b/);

      await t.http.delete(`/api/v1/groups/${group.body.id}/members/user/${user.row.id}`).set(staff.auth).expect(204);
      const after = await t.http.get('/api/v1/auth/me').set(user.auth).expect(200);
      expect(after.body.roles).toEqual([]);
    } finally {
      spy.mockRestore();
    }
  });

  it('lets an organization admin manage its organization and nothing of another', async () => {
    const [org, other] = [await createOrganization(t), await createOrganization(t)];
    const staff = await createStaff(t);
    const admin = await createUser(t, { organizationId: org.id });
    const group = await t.http
      .post('/api/v1/groups')
      .set(staff.auth)
      .send({ name: unique('admins'), scope_type: 'organization', scope_id: org.id, role: 'organization_admin' })
      .expect(201);
    await t.http
      .post(`/api/v1/groups/${group.body.id}/members`)
      .set(staff.auth)
      .send({ principal_type: 'user', principal_id: admin.row.id })
      .expect(201);
    const created = await t.http
      .post('/api/v1/projects')
      .set(admin.auth)
      .send({ organization: org.id, key: unique('p'), name: 'P' })
      .expect(201);
    await t.http
      .post('/api/v1/projects')
      .set(admin.auth)
      .send({ organization: other.id, key: unique('p'), name: 'P' })
      .expect(404);
    const list = await t.http.get('/api/v1/organizations').set(admin.auth).expect(200);
    expect(list.body.results.map((o: { id: string }) => o.id)).toEqual([org.id]);
    await t.http.get(`/api/v1/organizations/${other.id}`).set(admin.auth).expect(404);
    await t.http
      .post('/api/v1/organizations')
      .set(admin.auth)
      .send({ key: unique('o'), name: 'O' })
      .expect(403);
    await t.http.delete(`/api/v1/projects/${created.body.id}`).set(admin.auth).expect(204);
  });
});

describe('organization admins and global users', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  async function orgAdmin(orgId: string) {
    const staff = await createStaff(t);
    const admin = await createUser(t, { organizationId: orgId });
    const group = await t.http
      .post('/api/v1/groups')
      .set(staff.auth)
      .send({ name: unique('admins'), scope_type: 'organization', scope_id: orgId, role: 'organization_admin' })
      .expect(201);
    await t.http
      .post(`/api/v1/groups/${group.body.id}/members`)
      .set(staff.auth)
      .send({ principal_type: 'user', principal_id: admin.row.id })
      .expect(201);
    return { admin, staff };
  }

  it('renames its organization but may not delete it: deleting an organization is for staff', async () => {
    const org = await createOrganization(t);
    const { admin, staff } = await orgAdmin(org.id);
    await t.http.patch(`/api/v1/organizations/${org.id}`).set(admin.auth).send({ name: 'Renamed' }).expect(200);
    const refused = await t.http.delete(`/api/v1/organizations/${org.id}`).set(admin.auth).expect(403);
    expect(refused.body.error).toBe('forbidden');
    const perms = await t.http
      .get('/api/v1/permissions')
      .query({ object_type: 'Organization', object_id: org.id })
      .set(admin.auth)
      .expect(200);
    expect(perms.body.actions).toEqual(expect.arrayContaining(['read', 'update']));
    expect(perms.body.actions).not.toContain('delete');
    const roles = await t.http.get('/api/v1/roles').set(admin.auth).expect(200);
    expect(roles.body.find((r: { name: string }) => r.name === 'organization_admin').except).toEqual([
      'delete Organization',
    ]);
    // The admin still manages what is in the organization, and may hand its own role out.
    const project = await t.http
      .post('/api/v1/projects')
      .set(admin.auth)
      .send({ organization: org.id, key: unique('p'), name: 'P' })
      .expect(201);
    await t.http.delete(`/api/v1/projects/${project.body.id}`).set(admin.auth).expect(204);
    await t.http
      .post('/api/v1/groups')
      .set(admin.auth)
      .send({ name: unique('admins'), scope_type: 'organization', scope_id: org.id, role: 'organization_admin' })
      .expect(201);
    const listed = await t.http.get('/api/v1/organizations').query({ user_has_perm: 'delete' }).set(admin.auth);
    expect(listed.body.results).toEqual([]);
    expect(
      (await t.http.get('/api/v1/organizations').query({ user_has_perm: 'update' }).set(admin.auth)).body.count,
    ).toBe(1);
    await t.http.delete(`/api/v1/organizations/${org.id}`).set(staff.auth).expect(409);
  });

  it('cannot change or deactivate a staff user of its organization', async () => {
    const org = await createOrganization(t);
    const { admin } = await orgAdmin(org.id);
    const staffInOrg = await createUser(t, { organizationId: org.id, isStaff: true });
    const res = await t.http
      .patch(`/api/v1/users/${staffInOrg.row.id}`)
      .set(admin.auth)
      .send({ is_active: false })
      .expect(403);
    expect(res.body.error).toBe('forbidden');
    await t.http.get('/api/v1/auth/me').set(staffInOrg.auth).expect(200);
    const plain = await createUser(t, { organizationId: org.id });
    await t.http.patch(`/api/v1/users/${plain.row.id}`).set(admin.auth).send({ is_active: false }).expect(200);
  });

  it('leaves an organization field sent as null as it is, like the other PATCH routes, never a 500', async () => {
    const org = await createOrganization(t, { name: 'Kept' });
    const { admin } = await orgAdmin(org.id);
    const res = await t.http.patch(`/api/v1/organizations/${org.id}`).set(admin.auth).send({ key: null, name: null });
    expect({ status: res.status, key: res.body.key, name: res.body.name }).toEqual({
      status: 200,
      key: org.key,
      name: 'Kept',
    });
    const renamed = await t.http
      .patch(`/api/v1/organizations/${org.id}`)
      .set(admin.auth)
      .send({ key: null, name: 'Renamed' })
      .expect(200);
    expect(renamed.body).toMatchObject({ key: org.key, name: 'Renamed' });
  });

  it('answers 409 organization_not_empty for an organization that has only deleted projects left', async () => {
    const org = await createOrganization(t);
    const staff = await createStaff(t);
    const project = await t.http
      .post('/api/v1/projects')
      .set(staff.auth)
      .send({ organization: org.id, key: unique('p'), name: 'P' })
      .expect(201);
    await t.http.delete(`/api/v1/projects/${project.body.id}`).set(staff.auth).expect(204);
    const res = await t.http.delete(`/api/v1/organizations/${org.id}`).set(staff.auth).expect(409);
    expect(res.body.error).toBe('organization_not_empty');
    const empty = await createOrganization(t);
    await t.http.delete(`/api/v1/organizations/${empty.id}`).set(staff.auth).expect(204);
  });

  it('deletes an organization once when asked several times at the same moment: one 204, the rest 404, one audit event', async () => {
    const org = await createOrganization(t);
    const staff = await createStaff(t);
    // Another transaction holds the organization's row, so every delete has found it and waits.
    const url = `${await listeningUrl(t)}/api/v1/organizations/${org.id}`;
    const deletes = await whileHeld(t, [['SELECT 1 FROM organizations WHERE id = $1 FOR UPDATE', [org.id]]], 4, () =>
      Array.from({ length: 4 }, () => fetch(url, { method: 'DELETE', headers: staff.auth }).then((r) => r.status)),
    );
    expect((await Promise.all(deletes)).sort()).toEqual([204, 404, 404, 404]);
    const [{ n }] = await t.app
      .get(DataSource)
      .query(`SELECT count(*)::int AS n FROM audit_events WHERE action = 'organization.deleted' AND subject_id = $1`, [
        org.id,
      ]);
    expect(n).toBe(1);
  });

  it('answers 404 to a change of an organization or project deleted while the change waited, and writes nothing', async () => {
    const staff = await createStaff(t);
    const url = await listeningUrl(t);
    const patch = (path: string, body: object) =>
      fetch(`${url}${path}`, {
        method: 'PATCH',
        headers: { ...staff.auth, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const db = t.app.get(DataSource);

    const org = await createOrganization(t);
    const [renamed] = await whileHeld(t, [['DELETE FROM organizations WHERE id = $1', [org.id]]], 1, () => [
      patch(`/api/v1/organizations/${org.id}`, { name: 'Renamed' }),
    ]);
    expect((await renamed).status).toBe(404);
    expect(await db.query('SELECT id FROM organizations WHERE id = $1', [org.id])).toEqual([]);

    const live = await createOrganization(t);
    const project = await t.http
      .post('/api/v1/projects')
      .set(staff.auth)
      .send({ organization: live.id, key: unique('p'), name: 'Before' })
      .expect(201);
    const [changed] = await whileHeld(
      t,
      [['UPDATE projects SET deleted_at = now() WHERE id = $1', [project.body.id]]],
      1,
      () => [patch(`/api/v1/projects/${project.body.id}`, { name: 'After' })],
    );
    expect((await changed).status).toBe(404);
    expect(await db.query('SELECT name FROM projects WHERE id = $1', [project.body.id])).toEqual([{ name: 'Before' }]);
    const [{ n }] = await db.query(
      `SELECT count(*)::int AS n FROM audit_events WHERE action IN ('organization.updated', 'project.updated') AND subject_id = ANY($1::text[])`,
      [[org.id, project.body.id]],
    );
    expect(n).toBe(0);
  });
});

describe('deleting a project', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  /** A project made by staff, with a group of `role` on it and a user of its organization not yet in it. */
  async function projectWithGroup(role: string) {
    const org = await createOrganization(t);
    const staff = await createStaff(t);
    const user = await createUser(t, { organizationId: org.id });
    const project = await t.http
      .post('/api/v1/projects')
      .set(staff.auth)
      .send({ organization: org.id, key: unique('p'), name: 'P' })
      .expect(201);
    const group = await t.http
      .post('/api/v1/groups')
      .set(staff.auth)
      .send({ name: unique(role), scope_type: 'project', scope_id: project.body.id, role })
      .expect(201);
    return { staff, user, project, group };
  }

  it('deletes its groups, so its former managers keep no rights and the revocation is audited', async () => {
    const { staff, user: manager, project, group } = await projectWithGroup('project_manager');
    await t.http
      .post(`/api/v1/groups/${group.body.id}/members`)
      .set(staff.auth)
      .send({ principal_type: 'user', principal_id: manager.row.id })
      .expect(201);
    await t.http.get(`/api/v1/groups/${group.body.id}`).set(manager.auth).expect(200);

    await t.http.delete(`/api/v1/projects/${project.body.id}`).set(staff.auth).expect(204);

    await t.http.get(`/api/v1/groups/${group.body.id}`).set(staff.auth).expect(404);
    const me = await t.http.get('/api/v1/auth/me').set(manager.auth).expect(200);
    expect(me.body.roles).toEqual([]);
    const audit = await t.http
      .get(`/api/v1/audit-events?action=group.deleted&subject_id=${group.body.id}`)
      .set(staff.auth)
      .expect(200);
    expect(audit.body.results[0].data).toMatchObject({
      reason: 'project deleted',
      revoked: [{ principal_type: 'user', principal_id: manager.row.id }],
    });
  });

  it('lists in its audit event a member added to one of its groups at the same moment', async () => {
    const { staff, user: member, project, group } = await projectWithGroup('project_member');
    const url = await listeningUrl(t);
    // The member is being added (waiting on the group) when the project is deleted.
    const [added, deleted] = await whileHeld(
      t,
      [['SELECT 1 FROM groups WHERE id = $1 FOR UPDATE', [group.body.id]]],
      2,
      async () => {
        const add = fetch(`${url}/api/v1/groups/${group.body.id}/members`, {
          method: 'POST',
          headers: { ...staff.auth, 'content-type': 'application/json' },
          body: JSON.stringify({ principal_type: 'user', principal_id: member.row.id }),
        }).then((r) => r.status);
        await lockWaitersReach(t, 1);
        return [
          add,
          fetch(`${url}/api/v1/projects/${project.body.id}`, { method: 'DELETE', headers: staff.auth }).then(
            (r) => r.status,
          ),
        ];
      },
    ).then((p) => Promise.all(p));
    expect([added, deleted]).toEqual([201, 204]);
    const audit = await t.http
      .get(`/api/v1/audit-events?action=group.deleted&subject_id=${group.body.id}`)
      .set(staff.auth)
      .expect(200);
    expect(audit.body.results[0].data.revoked).toEqual([{ principal_type: 'user', principal_id: member.row.id }]);
  });

  it('leaves no group on a project deleted while the group was being created', async () => {
    const org = await createOrganization(t);
    const staff = await createStaff(t);
    const project = await t.http
      .post('/api/v1/projects')
      .set(staff.auth)
      .send({ organization: org.id, key: unique('p'), name: 'P' })
      .expect(201);
    const url = await listeningUrl(t);
    // The creation has found the project and waits on its organization when the project is deleted;
    // the deletion either waits for the creation or is done before it goes on.
    const [created, deleted] = await whileHeld(
      t,
      [['SELECT 1 FROM organizations WHERE id = $1 FOR UPDATE', [org.id]]],
      1,
      async () => {
        const creation = fetch(`${url}/api/v1/groups`, {
          method: 'POST',
          headers: { ...staff.auth, 'content-type': 'application/json' },
          body: JSON.stringify({
            name: unique('managers'),
            scope_type: 'project',
            scope_id: project.body.id,
            role: 'project_manager',
          }),
        }).then((r) => r.status);
        await lockWaitersReach(t, 1);
        const deletion = fetch(`${url}/api/v1/projects/${project.body.id}`, {
          method: 'DELETE',
          headers: staff.auth,
        }).then((r) => r.status);
        await Promise.race([deletion, lockWaitersReach(t, 2)]);
        return [creation, deletion];
      },
    ).then((p) => Promise.all(p));
    expect(deleted).toBe(204);
    expect([201, 400]).toContain(created);
    expect(await t.app.get(DataSource).query('SELECT id FROM groups WHERE scope_id = $1', [project.body.id])).toEqual(
      [],
    );
  });
});

describe('list search', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('matches search text literally, so % and _ are not wildcards', async () => {
    const staff = await createStaff(t);
    const marker = unique('m');
    await createOrganization(t, { key: `${marker}-a`, name: `${marker} 100% online` });
    await createOrganization(t, { key: `${marker}-b`, name: `${marker} 100 online` });
    const res = await t.http
      .get(`/api/v1/organizations?search=${encodeURIComponent('100%')}`)
      .set(staff.auth)
      .expect(200);
    expect(res.body.results.map((o: { key: string }) => o.key)).toEqual([`${marker}-a`]);
  });
});
