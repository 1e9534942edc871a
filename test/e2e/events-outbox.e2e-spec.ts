import { randomUUID } from 'node:crypto';
import { createOrganization, createStaff, createUser, unique } from '../factories/accounts';
import { ds } from '../utils/course-accounts';
import { jobSettings } from '../utils/jobs-helpers';
import { createTestApp, TestApp } from '../utils/test-app';
import { day } from '../utils/course-accounts';

jest.setTimeout(60_000);

interface Row {
  type: string;
  organization_id: string;
  subject_type: string;
  subject_id: string;
  payload: Record<string, unknown>;
}

describe('Outbox events: one per change, written with it', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ settings: { ...jobSettings('in-process'), OUTBOX_RELAY_INTERVAL_MS: '0' } });
  });
  afterAll(() => t.close());

  const eventsOf = (subjectId: string): Promise<Row[]> =>
    ds(t).query(
      `SELECT type, organization_id, subject_type, subject_id, payload FROM outbox_events WHERE subject_id = $1 ORDER BY seq`,
      [subjectId],
    );

  it('writes project, membership and course account events with the organization, subject and no secrets', async () => {
    const staff = await createStaff(t);
    const org = await createOrganization(t);
    const project = await t.http
      .post('/api/v1/projects')
      .set(staff.auth)
      .send({ organization: org.id, key: unique('course'), name: 'Course', kind: 'course', end_date: day(30) })
      .expect(201);
    const pid = project.body.id as string;
    await t.http.patch(`/api/v1/projects/${pid}`).set(staff.auth).send({ name: 'Renamed' }).expect(200);

    const group = await t.http
      .post('/api/v1/groups')
      .set(staff.auth)
      .send({ name: unique('group'), scope_type: 'project', scope_id: pid, role: 'project_member' })
      .expect(201);
    const member = await createUser(t, { organizationId: org.id });
    await t.http
      .post(`/api/v1/groups/${group.body.id}/members`)
      .set(staff.auth)
      .send({ principal_type: 'user', principal_id: member.row.id })
      .expect(201);
    await t.http.delete(`/api/v1/groups/${group.body.id}/members/user/${member.row.id}`).set(staff.auth).expect(204);

    const created = await t.http
      .post('/api/v1/course-accounts')
      .set(staff.auth)
      .send({ project: pid, email: `${randomUUID()}@example.edu` })
      .expect(201);
    const aid = created.body.id as string;
    await t.http.delete(`/api/v1/course-accounts/${aid}`).set(staff.auth).expect(204);
    await t.http.delete(`/api/v1/projects/${pid}`).set(staff.auth).expect(204);

    const projectEvents = await eventsOf(pid);
    expect(projectEvents.map((e) => e.type)).toEqual(['project.created', 'project.updated', 'project.deleted']);
    expect(projectEvents[1]).toMatchObject({
      organization_id: org.id,
      subject_type: 'Project',
      payload: { id: pid, name: 'Renamed', kind: 'course', changes: ['name'] },
    });

    const groupEvents = await eventsOf(group.body.id);
    expect(groupEvents.map((e) => [e.type, e.payload.principal_id, e.payload.role])).toEqual([
      ['membership.added', member.row.id, 'project_member'],
      ['membership.removed', member.row.id, 'project_member'],
    ]);
    expect(groupEvents[0]).toMatchObject({ organization_id: org.id, subject_type: 'Group' });

    const accountEvents = await eventsOf(aid);
    expect(accountEvents.map((e) => [e.type, e.payload.from ?? null, e.payload.to ?? null])).toEqual([
      ['course_account.created', null, null],
      ['course_account.state_changed', 'PENDING', 'OK'],
      ['course_account.state_changed', 'OK', 'CLOSED'],
      ['course_account.closed', null, null],
      ['course_account.deleted', null, null],
    ]);
    expect(accountEvents[1].payload).toMatchObject({
      id: aid,
      project: pid,
      organization: org.id,
      state: 'OK',
      username: created.body.username,
      error: null,
    });
    for (const e of [...projectEvents, ...groupEvents, ...accountEvents]) {
      expect(JSON.stringify(e.payload)).not.toMatch(/secret|password|token|idempotency/i);
    }
  });

  it('writes nothing for a change that rolled back', async () => {
    const staff = await createStaff(t);
    const org = await createOrganization(t);
    const key = unique('dup');
    await t.http.post('/api/v1/projects').set(staff.auth).send({ organization: org.id, key, name: 'One' }).expect(201);
    await t.http.post('/api/v1/projects').set(staff.auth).send({ organization: org.id, key, name: 'Two' }).expect(409);
    const [{ n }] = await ds(t).query(
      `SELECT count(*)::int AS n FROM outbox_events WHERE organization_id = $1 AND type = 'project.created'`,
      [org.id],
    );
    expect(n).toBe(1);
  });
});
