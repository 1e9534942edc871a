import { getDataSourceToken } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { createOrganization, createServiceAccount, createStaff, createUser, unique } from '../factories/accounts';
import { basicAuth, NEW_USER_GRANT, tokenRequest } from '../utils/oauth';
import { createTestApp, TestApp } from '../utils/test-app';

interface EventView {
  action: string;
  actor_type: string;
  actor_id: string | null;
  subject_type: string | null;
  subject_id: string | null;
  organization: string | null;
  data: Record<string, unknown>;
}

describe('Audit events', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ settings: { LOGIN_RATE_LIMIT: '10000', AUDIT_TOKEN_FLUSH_SECONDS: '0' } });
  });
  afterAll(() => t.close());

  const list = async (auth: { Authorization: string }, query: string): Promise<EventView[]> =>
    (await t.http.get(`/api/v1/audit-events?page_size=500&${query}`).set(auth).expect(200)).body.results;

  it('records every administrative change, login, client failure and rotation, with its actor and organization', async () => {
    const staff = await createStaff(t);
    const org = (
      await t.http
        .post('/api/v1/organizations')
        .set(staff.auth)
        .send({ key: unique('org'), name: 'Audited' })
        .expect(201)
    ).body;
    await t.http
      .patch(`/api/v1/organizations/${org.id}`)
      .set(staff.auth)
      .send({ name: 'Audited, renamed' })
      .expect(200);
    const project = (
      await t.http
        .post('/api/v1/projects')
        .set(staff.auth)
        .send({
          organization: org.id,
          key: unique('p'),
          name: 'Course',
          kind: 'course',
          start_date: '2030-01-01',
          end_date: '2030-06-30',
        })
        .expect(201)
    ).body;
    await t.http.patch(`/api/v1/projects/${project.id}`).set(staff.auth).send({ name: 'Course, renamed' }).expect(200);
    await t.http.delete(`/api/v1/projects/${project.id}`).set(staff.auth).expect(204);
    const user = (
      await t.http
        .post('/api/v1/users')
        .set(staff.auth)
        .send({ username: unique('u'), organization: org.id })
        .expect(201)
    ).body;
    await t.http.patch(`/api/v1/users/${user.id}`).set(staff.auth).send({ first_name: 'Ada' }).expect(200);
    const sa = (
      await t.http
        .post('/api/v1/service-accounts')
        .set(staff.auth)
        .send({ organization: org.id, name: unique('svc') })
        .expect(201)
    ).body;
    await t.http.post(`/api/v1/service-accounts/${sa.id}/rotate-secret`).set(staff.auth).expect(200);
    await t.http.post(`/api/v1/service-accounts/${sa.id}/deactivate`).set(staff.auth).expect(200);

    const events = await list(staff.auth, `organization=${org.id}`);
    const bySubject = (action: string, subjectId: string) =>
      events.filter((e) => e.action === action && e.subject_id === subjectId);
    for (const [action, subject] of [
      ['organization.created', org.id],
      ['organization.updated', org.id],
      ['project.created', project.id],
      ['project.updated', project.id],
      ['project.deleted', project.id],
      ['user.created', user.id],
      ['user.updated', user.id],
      ['service_account.created', sa.id],
      ['service_account.secret_rotated', sa.id],
      ['service_account.deactivated', sa.id],
    ] as const) {
      const found = bySubject(action, subject);
      expect({ action, found: found.length }).toEqual({ action, found: 1 });
      expect(found[0]).toMatchObject({ actor_type: 'user', actor_id: staff.row.id, organization: org.id });
    }
    // No secret reaches the audit log.
    expect(JSON.stringify(events)).not.toContain(sa.client_secret);
  });

  it('records logins that succeed and fail, failed client authentications and failed activations', async () => {
    const staff = await createStaff(t);
    const org = await createOrganization(t);
    const password = 'correct horse battery staple';
    const person = await createUser(t, { organizationId: org.id, password });
    await t.http.post('/api/v1/auth/login').send({ username: person.row.username, password }).expect(200);
    await t.http
      .post('/api/v1/auth/login')
      .send({ username: person.row.username, password: 'wrong password' })
      .expect(401);
    const client = await createServiceAccount(t, org.id);
    expect(
      (
        await tokenRequest(
          t,
          { grant_type: 'client_credentials' },
          { authorization: basicAuth(client.row.clientId, 'cas_wrong') },
        )
      ).status,
    ).toBe(401);
    const crsid = unique('zz');
    expect(
      (await tokenRequest(t, { grant_type: NEW_USER_GRANT, crsid, date_of_birth: '1996-12-19', code: 'ABCDEFGHJKMN' }))
        .status,
    ).toBe(400);

    const logins = await list(staff.auth, `subject_id=${person.row.id}`);
    expect(logins.filter((e) => e.action === 'auth.login')).toEqual([
      expect.objectContaining({ actor_type: 'user', actor_id: person.row.id, organization: org.id }),
    ]);
    expect(logins.filter((e) => e.action === 'auth.login_failed')).toEqual([
      expect.objectContaining({ actor_type: 'anonymous', organization: org.id }),
    ]);
    expect(JSON.stringify(logins)).not.toContain('wrong password');
    const clientFailures = (await list(staff.auth, 'action=oauth.client_auth_failed')).filter(
      (e) => e.data.client_id === client.row.clientId,
    );
    expect(clientFailures).toHaveLength(1);
    expect(JSON.stringify(clientFailures)).not.toContain('cas_wrong');
    const activations = await list(staff.auth, 'action=activation.failed');
    expect(activations.length).toBeGreaterThanOrEqual(1);
    expect(JSON.stringify(activations)).not.toContain('ABCDEFGHJKMN');
  });

  it('filters by action, actor, organization and time, and shows the log to staff only', async () => {
    const staff = await createStaff(t);
    const other = await createStaff(t);
    const started = new Date().toISOString();
    const a = (
      await t.http
        .post('/api/v1/organizations')
        .set(staff.auth)
        .send({ key: unique('org'), name: 'A' })
        .expect(201)
    ).body;
    const b = (
      await t.http
        .post('/api/v1/organizations')
        .set(other.auth)
        .send({ key: unique('org'), name: 'B' })
        .expect(201)
    ).body;

    const mine = await list(
      staff.auth,
      `actor=${staff.row.id}&action=organization.created&since=${encodeURIComponent(started)}`,
    );
    expect(mine.map((e) => e.subject_id)).toEqual([a.id]);
    expect((await list(staff.auth, `organization=${b.id}`)).map((e) => e.action)).toEqual(['organization.created']);
    expect(await list(staff.auth, `organization=${a.id}&until=${encodeURIComponent(started)}`)).toEqual([]);

    const plain = await createUser(t, { organizationId: a.id });
    const refused = await t.http.get('/api/v1/audit-events').set(plain.auth);
    expect(refused.status).toBe(403);
    await t.http.get('/api/v1/audit-events?since=yesterday').set(staff.auth).expect(400);
  });

  it('answers a time the database cannot read with 400 validation_failed naming the field, never a 500', async () => {
    const staff = await createStaff(t);
    for (const [field, value] of [
      ['since', '2024-02-30'],
      ['until', '2024-02-30T00:00:00Z'],
      ['since', '0000-01-01'],
      ['until', '2024-W01'],
      ['since', '2024'],
      ['since', '2024-01-01T10'],
      ['until', '2024-01-01T10:00:00+23:00'],
    ]) {
      const res = await t.http.get(`/api/v1/audit-events?${field}=${encodeURIComponent(value)}`).set(staff.auth);
      expect({
        value,
        status: res.status,
        error: res.body.error,
        fields: res.body.details?.fields?.map((f: { field: string }) => f.field),
      }).toEqual({
        value,
        status: 400,
        error: 'validation_failed',
        fields: [field],
      });
    }
    for (const value of [
      '2024-02-29',
      '2024-02-29 10:00:00Z',
      '2024-02-29T10:00+05:30',
      '2024-02-29T10:00:00.123456-08:00',
    ]) {
      await t.http
        .get(`/api/v1/audit-events?since=${encodeURIComponent(value)}`)
        .set(staff.auth)
        .expect(200);
    }
  });

  it('is append-only: updates, deletes and truncation are refused by the database', async () => {
    const staff = await createStaff(t);
    await t.http
      .post('/api/v1/organizations')
      .set(staff.auth)
      .send({ key: unique('org'), name: 'Kept' })
      .expect(201);
    const db = t.app.get<DataSource>(getDataSourceToken());
    const [{ id }] = await db.query(`SELECT id FROM audit_events WHERE actor_id = $1 LIMIT 1`, [staff.row.id]);
    await expect(db.query(`UPDATE audit_events SET action = 'forged' WHERE id = $1`, [id])).rejects.toThrow(
      /append-only/,
    );
    await expect(db.query(`DELETE FROM audit_events WHERE id = $1`, [id])).rejects.toThrow(/append-only/);
    await expect(db.query(`TRUNCATE audit_events`)).rejects.toThrow(/append-only/);
    expect(await db.query(`SELECT action FROM audit_events WHERE id = $1`, [id])).toHaveLength(1);
  });
});
