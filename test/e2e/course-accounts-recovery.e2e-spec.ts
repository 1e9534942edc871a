import { randomUUID } from 'node:crypto';
import { createStaff } from '../factories/accounts';
import { account, auditActions, courseWithManager, ds, orgScope, userWithRole } from '../utils/course-accounts';
import { jobSettings } from '../utils/jobs-helpers';
import { createTestApp, TestApp } from '../utils/test-app';

jest.setTimeout(60_000);

const BASE = '/api/v1/course-accounts';

describe('Course accounts: staff recovery (set-ok)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ settings: jobSettings('in-process') });
  });
  afterAll(() => t.close());

  /** An OK account made through the API, then recorded ERRED as a failed close leaves it, its user deactivated. */
  async function erred() {
    const { org, project, manager } = await courseWithManager(t);
    const staff = await createStaff(t);
    const res = await t.http
      .post(BASE)
      .set(manager.auth)
      .send({ project: project.id, email: `${randomUUID()}@example.edu` })
      .expect(201);
    await ds(t).query(
      `UPDATE course_accounts SET state = 'ERRED', failed_operation = 'close', error_message = 'close failed', error_traceback = 'trace' WHERE id = $1`,
      [res.body.id],
    );
    await ds(t).query(`UPDATE users SET is_active = false WHERE id = $1`, [res.body.user]);
    return { org, project, manager, staff, id: res.body.id as string, username: res.body.username as string };
  }

  it('moves ERRED → OK when the backend has the account: audited with the reason, error cleared, user active', async () => {
    const { staff, id } = await erred();
    const res = await t.http
      .post(`${BASE}/${id}/set-ok`)
      .set(staff.auth)
      .send({ reason: 'Fixed upstream by hand' })
      .expect(200);
    expect(res.body).toMatchObject({ id, state: 'OK', error_message: null });
    const stored = await account(t, id);
    expect([stored.state, stored.errorMessage, stored.errorTraceback, stored.failedOperation]).toEqual([
      'OK',
      null,
      null,
      null,
    ]);
    const [user] = await ds(t).query(`SELECT is_active FROM users WHERE id = $1`, [stored.userId]);
    expect(user.is_active).toBe(true);
    const last = (await auditActions(t, id)).at(-1)!;
    expect(last).toEqual({
      action: 'course_account.state_changed',
      data: { from: 'ERRED', to: 'OK', reason: 'Fixed upstream by hand', recovered_from: 'close failed' },
    });
  });

  it('refuses an account the backend does not have: 409 not_on_backend, still ERRED', async () => {
    const { staff, id, username } = await erred();
    await ds(t).query(`DELETE FROM course_account_mock_backend WHERE username = $1`, [username]);
    const res = await t.http.post(`${BASE}/${id}/set-ok`).set(staff.auth).send({ reason: 'try' }).expect(409);
    expect(res.body.error).toBe('not_on_backend');
    expect((await account(t, id)).state).toBe('ERRED');
  });

  it('refuses other states with 409 invalid_transition', async () => {
    const { staff, id } = await erred();
    await t.http.post(`${BASE}/${id}/set-ok`).set(staff.auth).send({ reason: 'first' }).expect(200);
    const again = await t.http.post(`${BASE}/${id}/set-ok`).set(staff.auth).send({ reason: 'again' }).expect(409);
    expect(again.body).toMatchObject({ error: 'invalid_transition', details: { state: 'OK' } });
  });

  it('is staff only: managers and organization admins get 403; an empty reason or malformed id is 400', async () => {
    const { org, manager, staff, id } = await erred();
    const admin = await userWithRole(t, 'organization_admin', orgScope(org));
    await t.http.post(`${BASE}/${id}/set-ok`).set(manager.auth).send({ reason: 'x' }).expect(403);
    await t.http.post(`${BASE}/${id}/set-ok`).set(admin.auth).send({ reason: 'x' }).expect(403);
    const bad = await t.http.post(`${BASE}/${id}/set-ok`).set(staff.auth).send({ reason: '  ' }).expect(400);
    expect(bad.body.error).toBe('validation_failed');
    await t.http.post(`${BASE}/not-a-uuid/set-ok`).set(staff.auth).send({ reason: 'x' }).expect(400);
    await t.http.post(`${BASE}/${randomUUID()}/set-ok`).set(staff.auth).send({ reason: 'x' }).expect(404);
    expect((await account(t, id)).state).toBe('ERRED');
  });
});
