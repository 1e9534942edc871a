import { randomUUID } from 'node:crypto';
import { CourseAccountsScheduler } from '../../src/course-accounts/course-accounts.scheduler';
import { mockUsername } from '../../src/course-accounts/backends/mock.backend';
import { JobsService } from '../../src/jobs/jobs.service';
import { createOrganization, createProject, createServiceAccount, createUser } from '../factories/accounts';
import { grantRole } from '../permissions/grants';
import {
  account,
  auditActions,
  courseWithManager,
  createCourse,
  day,
  ds,
  jobDone,
  jobResult,
  orgScope,
  projectScope,
  userWithRole,
} from '../utils/course-accounts';
import { listeningUrl, lockWaitersReach, whileHeld } from '../utils/held-rows';
import { abilityOf, jobSettings, waitFor } from '../utils/jobs-helpers';
import { createTestApp, TestApp } from '../utils/test-app';

jest.setTimeout(60_000);

const BASE = '/api/v1/course-accounts';

describe('Course accounts API (mock backend)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ settings: jobSettings('in-process') });
  });
  afterAll(() => t.close());

  describe('creating one account', () => {
    it('creates the account and its user within the request: 201 OK with the backend username', async () => {
      const { project, manager } = await courseWithManager(t);
      const res = await t.http
        .post(BASE)
        .set(manager.auth)
        .send({ project: project.id, email: ' Student@Example.edu ', description: 'Lab 1' })
        .expect(201);
      expect(res.body).toMatchObject({
        state: 'OK',
        email: 'Student@Example.edu',
        description: 'Lab 1',
        project: project.id,
        project_name: project.name,
        project_key: project.key,
        project_end_date: project.endDate,
        organization: project.organizationId,
        error_message: null,
        closed_at: null,
        expires_at: new Date(Date.parse(`${project.endDate}T00:00:00Z`) + 86_400_000).toISOString(),
      });
      const stored = await account(t, res.body.id);
      expect(res.body.username).toBe(mockUsername(project.key, stored.idempotencyKey));
      const [user] = await ds(t).query(
        'SELECT username, email, first_name, last_name, kind, is_active, organization_id FROM users WHERE id = $1',
        [res.body.user],
      );
      expect(user).toEqual({
        username: `course-account-${res.body.id}`,
        email: 'Student@Example.edu',
        first_name: 'Course',
        last_name: 'Account',
        kind: 'course_account',
        is_active: true,
        organization_id: project.organizationId,
      });
      expect((await auditActions(t, res.body.id)).map((e) => [e.action, e.data.to ?? null])).toEqual([
        ['course_account.requested', null],
        ['course_account.state_changed', 'OK'],
      ]);
    });

    it('accepts an account without e-mail and an earlier expiry, refuses one after the project end', async () => {
      const { project, manager } = await courseWithManager(t);
      const expiresAt = new Date(Date.now() + 3 * 86_400_000).toISOString();
      const res = await t.http
        .post(BASE)
        .set(manager.auth)
        .send({ project: project.id, expires_at: expiresAt })
        .expect(201);
      expect(res.body).toMatchObject({ state: 'OK', email: null, expires_at: expiresAt });
      const late = await t.http
        .post(BASE)
        .set(manager.auth)
        .send({ project: project.id, expires_at: `${day(40)}T00:00:00Z` })
        .expect(400);
      expect(late.body.error).toBe('invalid_expiry');
    });

    it.each([
      ['project_not_course', { kind: 'default' as const }],
      ['project_without_end_date', { endDate: null }],
      ['project_ended', { endDate: day(-1) }],
      ['project_deleted', { deletedAt: new Date() }],
    ])('answers 400 %s for a project that cannot hold accounts', async (code, overrides) => {
      const { org, manager } = await courseWithManager(t);
      const project = await createCourse(t, org.id, overrides);
      await userWithRole(t, 'project_manager', projectScope(project)).then(async (m) => {
        const res = await t.http
          .post(BASE)
          .set(m.auth)
          .send({ project: project.id, email: 'a@example.edu' })
          .expect(400);
        expect(res.body.error).toBe(code);
      });
      expect(manager).toBeDefined();
    });

    it('keeps one live account per project and e-mail (case-insensitive), and allows a new one once it is closed', async () => {
      const { project, manager } = await courseWithManager(t);
      const first = await t.http
        .post(BASE)
        .set(manager.auth)
        .send({ project: project.id, email: 'dup@example.edu' })
        .expect(201);
      const again = await t.http
        .post(BASE)
        .set(manager.auth)
        .send({ project: project.id, email: 'DUP@example.edu' })
        .expect(409);
      expect(again.body).toMatchObject({ error: 'duplicate_account', details: { account: first.body.id } });
      await t.http.delete(`${BASE}/${first.body.id}`).set(manager.auth).expect(204);
      await t.http.post(BASE).set(manager.auth).send({ project: project.id, email: 'dup@example.edu' }).expect(201);
    });

    it('refuses unknown fields and a malformed e-mail', async () => {
      const { project, manager } = await courseWithManager(t);
      const res = await t.http
        .post(BASE)
        .set(manager.auth)
        .send({ project: project.id, email: 'not-an-email', state: 'OK' })
        .expect(400);
      expect(res.body.error).toBe('validation_failed');
      expect(res.body.details.unknown_fields).toEqual(['state']);
    });
  });

  describe('permissions', () => {
    it('lets the course-account manager and the admin of the organization, and staff, create accounts', async () => {
      const { org, project } = await courseWithManager(t);
      for (const who of [
        await userWithRole(t, 'course_account_manager', orgScope(org)),
        await userWithRole(t, 'organization_admin', orgScope(org)),
        await createUser(t, { isStaff: true }),
      ]) {
        await t.http.post(BASE).set(who.auth).send({ project: project.id }).expect(201);
      }
    });

    it('lets project members read but not create or close: 403', async () => {
      const { project, manager } = await courseWithManager(t);
      const created = await t.http
        .post(BASE)
        .set(manager.auth)
        .send({ project: project.id, email: 'm@example.edu' })
        .expect(201);
      const member = await userWithRole(t, 'project_member', projectScope(project));
      await t.http.get(`${BASE}/${created.body.id}`).set(member.auth).expect(200);
      const list = await t.http.get(BASE).set(member.auth).expect(200);
      expect(list.body.results.map((a: { id: string }) => a.id)).toEqual([created.body.id]);
      expect((await t.http.post(BASE).set(member.auth).send({ project: project.id }).expect(403)).body.error).toBe(
        'forbidden',
      );
      expect((await t.http.delete(`${BASE}/${created.body.id}`).set(member.auth).expect(403)).body.error).toBe(
        'forbidden',
      );
      await t.http
        .post(`${BASE}/bulk`)
        .set(member.auth)
        .send({ project: project.id, course_accounts: [{ email: 'x@example.edu' }] })
        .expect(403);
    });

    it('answers 404 for an account or project the caller cannot see', async () => {
      const a = await courseWithManager(t);
      const b = await courseWithManager(t);
      const created = await t.http.post(BASE).set(a.manager.auth).send({ project: a.project.id }).expect(201);
      // Exactly the answer for an account that does not exist, so the id's existence does not show.
      const unknown = randomUUID();
      for (const [method, suffix] of [
        ['get', ''],
        ['delete', ''],
        ['post', '/retry'],
      ] as const) {
        const hidden = await t.http[method](`${BASE}/${created.body.id}${suffix}`).set(b.manager.auth).expect(404);
        const missing = await t.http[method](`${BASE}/${unknown}${suffix}`).set(b.manager.auth).expect(404);
        expect(hidden.body).toEqual({ ...missing.body, details: { id: created.body.id } });
        expect(missing.body).toEqual({
          error: 'not_found',
          message: 'Course account not found.',
          details: { id: unknown },
        });
      }
      const res = await t.http.post(BASE).set(b.manager.auth).send({ project: a.project.id }).expect(404);
      expect(res.body.error).toBe('project_not_found');
      const nobody = await createUser(t);
      await t.http.get(`${BASE}/${created.body.id}`).set(nobody.auth).expect(404);
      await t.http.get(`${BASE}/not-a-uuid`).set(a.manager.auth).expect(400);
      expect((await t.http.get(BASE).set(nobody.auth)).status).toBe(403);
    });

    it('lets a service account with the course-account manager role of its organization create accounts', async () => {
      const { org, project } = await courseWithManager(t);
      const svc = await createServiceAccount(t, org.id);
      await grantRole(t, svc.principal, 'course_account_manager', orgScope(org));
      await t.http.post(BASE).set(svc.auth).send({ project: project.id }).expect(201);
    });
  });

  describe('reading', () => {
    it('lists only what the caller may see, with filters, ordering and pagination', async () => {
      const org = await createOrganization(t);
      const early = await createCourse(t, org.id, { startDate: day(-100), endDate: day(10) });
      const late = await createCourse(t, org.id, { startDate: day(-5), endDate: day(90) });
      const admin = await userWithRole(t, 'organization_admin', orgScope(org));
      const other = await courseWithManager(t);
      await t.http
        .post(BASE)
        .set(other.manager.auth)
        .send({ project: other.project.id, email: 'alice@elsewhere.edu' })
        .expect(201);
      const ids: Record<string, string> = {};
      for (const [project, email] of [
        [early, 'alice@example.edu'],
        [early, 'bob@example.edu'],
        [late, 'ALICE.b@example.edu'],
        [late, 'carol@example.edu'],
      ] as const) {
        ids[email] = (await t.http.post(BASE).set(admin.auth).send({ project: project.id, email }).expect(201)).body.id;
      }
      await t.http.delete(`${BASE}/${ids['carol@example.edu']}`).set(admin.auth).expect(204);
      const get = async (query: string) =>
        (await t.http.get(`${BASE}?organization=${org.id}&${query}`).set(admin.auth).expect(200)).body;

      const all = await t.http.get(BASE).set(admin.auth).expect(200);
      expect(all.body.count).toBe(4);
      expect(all.body.results.map((a: { id: string }) => a.id)).toEqual(Object.values(ids).reverse());
      expect((await get('email=ALICE')).results.map((a: { email: string }) => a.email).sort()).toEqual([
        'ALICE.b@example.edu',
        'alice@example.edu',
      ]);
      expect((await get('state=CLOSED')).count).toBe(1);
      expect((await get('state=OK&state=closed')).count).toBe(4);
      expect((await get(`project=${early.id}`)).count).toBe(2);
      expect(
        (await get(`project_end_date_after=${day(30)}`)).results.map((a: { project: string }) => a.project),
      ).toEqual([late.id, late.id]);
      expect((await get(`project_start_date_before=${day(-50)}`)).count).toBe(2);
      expect((await get(`project_end_date_before=${day(10)}&project_start_date_after=${day(-100)}`)).count).toBe(2);
      const username = (await account(t, ids['bob@example.edu'])).username!;
      expect(
        (await get(`username=${username.slice(-6).toUpperCase()}`)).results.map((a: { id: string }) => a.id),
      ).toEqual([ids['bob@example.edu']]);
      expect((await get('ordering=project_end_date')).results.map((a: { project: string }) => a.project)).toEqual([
        early.id,
        early.id,
        late.id,
        late.id,
      ]);
      expect((await get('ordering=state')).results[0].state).toBe('CLOSED');
      expect((await get('ordering=created')).results.map((a: { id: string }) => a.id)).toEqual(Object.values(ids));
      const page = await get('ordering=created&page_size=3&page=2');
      expect(page).toMatchObject({ count: 4, next: null });
      expect(page.results.map((a: { id: string }) => a.id)).toEqual([ids['carol@example.edu']]);
      expect(page.previous).toContain('page=1');
      await t.http.get(`${BASE}?state=OPEN`).set(admin.auth).expect(400);
      await t.http.get(`${BASE}?ordering=email`).set(admin.auth).expect(400);
    });

    it('answers a date the database cannot read with 400 validation_failed, never a 500', async () => {
      const { project, manager } = await courseWithManager(t);
      for (const filter of ['project_start_date_after', 'project_end_date_before']) {
        for (const value of ['2024-02-30', '2024-13-01', '0000-01-01']) {
          const res = await t.http.get(`${BASE}?${filter}=${value}`).set(manager.auth);
          expect({ filter, value, status: res.status, error: res.body.error }).toEqual({
            filter,
            value,
            status: 400,
            error: 'validation_failed',
          });
        }
      }
      for (const expiresAt of [`${day(5)}T10`, '2030-W01', `${day(5)}T10:00:00+23:00`]) {
        const res = await t.http.post(BASE).set(manager.auth).send({ project: project.id, expires_at: expiresAt });
        expect({ expiresAt, status: res.status, error: res.body.error }).toEqual({
          expiresAt,
          status: 400,
          error: 'validation_failed',
        });
        const bulk = await t.http
          .post(`${BASE}/bulk`)
          .set(manager.auth)
          .send({ project: project.id, expires_at: expiresAt, course_accounts: [{ email: 'd@example.edu' }] });
        expect({ expiresAt, status: bulk.status, error: bulk.body.error }).toEqual({
          expiresAt,
          status: 400,
          error: 'validation_failed',
        });
      }
      expect(
        await ds(t).query('SELECT count(*)::int AS n FROM course_accounts WHERE project_id = $1', [project.id]),
      ).toEqual([{ n: 0 }]);
    });

    it('answers 405 to PUT and PATCH', async () => {
      const { project, manager } = await courseWithManager(t);
      const created = await t.http.post(BASE).set(manager.auth).send({ project: project.id }).expect(201);
      for (const method of ['put', 'patch'] as const) {
        const res = await t.http[method](`${BASE}/${created.body.id}`)
          .set(manager.auth)
          .send({ description: 'x' })
          .expect(405);
        expect(res.body.error).toBe('method_not_allowed');
        expect(res.headers.allow).toBe('DELETE, GET, HEAD, OPTIONS');
      }
    });
  });

  describe('closing and retrying', () => {
    it('closes upstream and deactivates the user; a second close is 409', async () => {
      const { project, manager } = await courseWithManager(t);
      const created = await t.http
        .post(BASE)
        .set(manager.auth)
        .send({ project: project.id, email: 'c@example.edu' })
        .expect(201);
      await t.http.delete(`${BASE}/${created.body.id}`).set(manager.auth).expect(204);
      const closed = await t.http.get(`${BASE}/${created.body.id}`).set(manager.auth).expect(200);
      expect(closed.body).toMatchObject({ state: 'CLOSED', closed_at: expect.any(String) });
      const [upstream] = await ds(t).query('SELECT closed_at FROM course_account_mock_backend WHERE username = $1', [
        created.body.username,
      ]);
      expect(upstream.closed_at).not.toBeNull();
      const [user] = await ds(t).query('SELECT is_active FROM users WHERE id = $1', [created.body.user]);
      expect(user.is_active).toBe(false);
      const again = await t.http.delete(`${BASE}/${created.body.id}`).set(manager.auth).expect(409);
      expect(again.body).toMatchObject({ error: 'invalid_transition', details: { state: 'CLOSED' } });
    });

    it('gives one 204 and 409s to concurrent closes of one account, with one move audited', async () => {
      const { project, manager } = await courseWithManager(t);
      const created = (await t.http.post(BASE).set(manager.auth).send({ project: project.id }).expect(201)).body;
      const answers = await Promise.all(
        Array.from({ length: 6 }, () => t.http.delete(`${BASE}/${created.id}`).set(manager.auth)),
      );
      expect(answers.map((r) => r.status).sort()).toEqual([204, 409, 409, 409, 409, 409]);
      const moves = (await auditActions(t, created.id)).filter(
        (e) => e.action === 'course_account.state_changed' && e.data.to === 'CLOSED',
      );
      expect(moves).toHaveLength(1);
    });

    it('gives one 202 and one job to concurrent retries of one account', async () => {
      const { project, manager } = await courseWithManager(t);
      const created = (await t.http.post(BASE).set(manager.auth).send({ project: project.id }).expect(201)).body;
      await ds(t).query(
        `UPDATE course_accounts SET state = 'ERRED', error_message = 'x', failed_operation = 'create' WHERE id = $1`,
        [created.id],
      );
      const answers = await Promise.all(
        Array.from({ length: 6 }, () => t.http.post(`${BASE}/${created.id}/retry`).set(manager.auth)),
      );
      expect(answers.map((r) => r.status).sort()).toEqual([202, 409, 409, 409, 409, 409]);
      const jobs = await ds(t).query(
        `SELECT id FROM jobs WHERE name = 'course-accounts.retry' AND payload->'accountIds' ? $1`,
        [created.id],
      );
      expect(jobs).toHaveLength(1);
      await jobDone(t, jobs[0].id);
      expect((await account(t, created.id)).state).toBe('OK');
    });

    it('retries only ERRED accounts: 409 otherwise', async () => {
      const { project, manager } = await courseWithManager(t);
      const created = await t.http.post(BASE).set(manager.auth).send({ project: project.id }).expect(201);
      const res = await t.http.post(`${BASE}/${created.body.id}/retry`).set(manager.auth).expect(409);
      expect(res.body).toMatchObject({
        error: 'invalid_transition',
        details: { state: 'OK', from: 'ERRED', to: 'PENDING' },
      });
    });
  });

  describe('bulk creation', () => {
    it('creates PENDING rows, answers 202 with a job, and the job makes each OK', async () => {
      const { project, manager } = await courseWithManager(t);
      const existing = await t.http
        .post(BASE)
        .set(manager.auth)
        .send({ project: project.id, email: 'taken@example.edu' })
        .expect(201);
      const rows = [
        ...Array.from({ length: 30 }, (_, i) => ({ email: `s${i}@example.edu`, description: `Student ${i}` })),
        { email: 'S3@EXAMPLE.edu' },
        { email: 'Taken@example.edu' },
      ];
      const res = await t.http
        .post(`${BASE}/bulk`)
        .set(manager.auth)
        .send({ project: project.id, course_accounts: rows })
        .expect(202);
      expect(res.body.course_accounts).toHaveLength(30);
      expect(res.body.course_accounts.every((a: { state: string }) => a.state === 'PENDING')).toBe(true);
      expect(res.body.course_accounts.map((a: { email: string }) => a.email)).toEqual(
        rows.slice(0, 30).map((r) => r.email),
      );
      expect(res.body.skipped).toEqual([
        { row: 30, email: 'S3@EXAMPLE.edu', reason: 'duplicate_in_request', duplicate_of: 3 },
        { row: 31, email: 'Taken@example.edu', reason: 'account_exists', account: existing.body.id },
      ]);
      const job = await jobDone(t, res.body.job_id);
      expect(job).toMatchObject({
        state: 'Succeeded',
        completedSteps: 30,
        totalSteps: 30,
        name: 'course-accounts.create',
      });
      expect(await jobResult(t, res.body.job_id)).toMatchObject({ accounts: 30, ok: 30, failed: [], failed_count: 0 });
      const listed = await t.http
        .get(`${BASE}?project=${project.id}&state=OK&page_size=100`)
        .set(manager.auth)
        .expect(200);
      expect(listed.body.count).toBe(31);
      const seen = await t.app.get(JobsService).get(await abilityOf(t, manager.principal), res.body.job_id);
      expect(seen.state).toBe('Succeeded');
    });

    it("finds duplicates as the database's unique index does, whatever JavaScript's case folding says", async () => {
      const { project, manager } = await courseWithManager(t);
      // PostgreSQL's lower() folds İ (U+0130) to i; JavaScript's toLowerCase() makes it i + U+0307.
      const [{ same }] = await ds(t).query(`SELECT lower('İx@x.example') = lower('ix@x.example') AS same`);
      expect(same).toBe(true);
      const existing = await t.http
        .post(BASE)
        .set(manager.auth)
        .send({ project: project.id, email: 'ix@x.example' })
        .expect(201);
      const res = await t.http
        .post(`${BASE}/bulk`)
        .set(manager.auth)
        .send({
          project: project.id,
          course_accounts: [
            { email: 'ok1@x.example' },
            { email: 'iy@x.example' },
            { email: 'İx@x.example' },
            { email: 'İY@x.example' },
          ],
        })
        .expect(202);
      expect(res.body.course_accounts.map((a: { email: string }) => a.email)).toEqual([
        'ok1@x.example',
        'iy@x.example',
      ]);
      expect(res.body.skipped).toEqual([
        { row: 2, email: 'İx@x.example', reason: 'account_exists', account: existing.body.id },
        { row: 3, email: 'İY@x.example', reason: 'duplicate_in_request', duplicate_of: 1 },
      ]);
      const single = await t.http
        .post(BASE)
        .set(manager.auth)
        .send({ project: project.id, email: 'İx@x.example' })
        .expect(409);
      expect(single.body).toMatchObject({
        error: 'duplicate_account',
        details: { account: existing.body.id, email: 'İx@x.example' },
      });
    });

    it('validates every row first and creates nothing when one is invalid', async () => {
      const { project, manager } = await courseWithManager(t);
      const res = await t.http
        .post(`${BASE}/bulk`)
        .set(manager.auth)
        .send({
          project: project.id,
          course_accounts: [{ email: 'ok@example.edu' }, { email: 'broken' }, { email: 'x@example.edu', extra: 1 }],
        })
        .expect(400);
      expect(res.body.details.fields.map((f: { field: string }) => f.field)).toEqual([
        'course_accounts.1.email',
        'course_accounts.2.extra',
      ]);
      const [{ n }] = await ds(t).query('SELECT count(*)::int AS n FROM course_accounts WHERE project_id = $1', [
        project.id,
      ]);
      expect(n).toBe(0);
    });

    it('refuses a row that is an array instead of an object with 400 validation_failed, never a 500', async () => {
      const { project, manager } = await courseWithManager(t);
      for (const bad of [[], [{ email: 'nested@example.edu' }]]) {
        const res = await t.http
          .post(`${BASE}/bulk`)
          .set(manager.auth)
          .send({ project: project.id, course_accounts: [{ email: 'ok@example.edu' }, bad] });
        expect({
          status: res.status,
          error: res.body.error,
          fields: res.body.details?.fields?.map((f: { field: string }) => f.field),
        }).toEqual({
          status: 400,
          error: 'validation_failed',
          fields: ['course_accounts'],
        });
      }
      const [{ n }] = await ds(t).query('SELECT count(*)::int AS n FROM course_accounts WHERE project_id = $1', [
        project.id,
      ]);
      expect(n).toBe(0);
    });

    it('takes at most 1,000 rows', async () => {
      const { project, manager } = await courseWithManager(t);
      const rows = Array.from({ length: 1001 }, (_, i) => ({ email: `u${i}@example.edu` }));
      const res = await t.http
        .post(`${BASE}/bulk`)
        .set(manager.auth)
        .send({ project: project.id, course_accounts: rows })
        .expect(400);
      expect(res.body.details.fields[0].field).toBe('course_accounts');
    });

    it('answers without a job when every row is a duplicate', async () => {
      const { project, manager } = await courseWithManager(t);
      await t.http.post(BASE).set(manager.auth).send({ project: project.id, email: 'only@example.edu' }).expect(201);
      const res = await t.http
        .post(`${BASE}/bulk`)
        .set(manager.auth)
        .send({ project: project.id, course_accounts: [{ email: 'only@example.edu' }] })
        .expect(202);
      expect(res.body).toMatchObject({
        job_id: null,
        course_accounts: [],
        skipped: [{ row: 0, reason: 'account_exists' }],
      });
    });
  });

  describe('lifecycle jobs', () => {
    it('closes expired accounts on demand for staff (403 for others), leaving the rest', async () => {
      const { project, manager } = await courseWithManager(t);
      const staff = await createUser(t, { isStaff: true });
      const expired = (
        await t.http.post(BASE).set(manager.auth).send({ project: project.id, email: 'old@example.edu' }).expect(201)
      ).body;
      const current = (
        await t.http.post(BASE).set(manager.auth).send({ project: project.id, email: 'new@example.edu' }).expect(201)
      ).body;
      await ds(t).query(`UPDATE course_accounts SET expires_at = now() - interval '1 minute' WHERE id = $1`, [
        expired.id,
      ]);
      // A project whose end date moved into the past: its account closes though its expires_at is later.
      const shortened = await createCourse(t, project.organizationId);
      const staffMade = (await t.http.post(BASE).set(staff.auth).send({ project: shortened.id }).expect(201)).body;
      await ds(t).query(`UPDATE projects SET end_date = $2 WHERE id = $1`, [shortened.id, day(-1)]);
      await t.http.post(`${BASE}/close-expired`).set(manager.auth).expect(403);
      const res = await t.http.post(`${BASE}/close-expired`).set(staff.auth).expect(202);
      const job = await jobDone(t, res.body.job_id);
      expect(job.state).toBe('Succeeded');
      expect((await account(t, expired.id)).state).toBe('CLOSED');
      expect((await account(t, current.id)).state).toBe('OK');
      expect((await account(t, staffMade.id)).state).toBe('CLOSED');
      const [user] = await ds(t).query('SELECT is_active FROM users WHERE id = $1', [expired.user]);
      expect(user.is_active).toBe(false);
    });

    it('closes every live account of a deleted project', async () => {
      const { project, manager } = await courseWithManager(t);
      const staff = await createUser(t, { isStaff: true });
      const ids: string[] = [];
      for (const email of ['a@example.edu', 'b@example.edu', 'c@example.edu']) {
        ids.push((await t.http.post(BASE).set(manager.auth).send({ project: project.id, email }).expect(201)).body.id);
      }
      await t.http.delete(`${BASE}/${ids[2]}`).set(manager.auth).expect(204);
      await t.http.delete(`/api/v1/projects/${project.id}`).set(staff.auth).expect(204);
      const [job] = await ds(t).query(
        `SELECT id FROM jobs WHERE name = 'course-accounts.close-project' AND payload->>'projectId' = $1`,
        [project.id],
      );
      await jobDone(t, job.id);
      for (const id of ids) expect((await account(t, id)).state).toBe('CLOSED');
      expect(await jobResult(t, job.id)).toMatchObject({ accounts: 2, closed: 2, failed: [] });
    });

    it('refuses an account whose creation was under way when its project was deleted: none is left open there', async () => {
      const { project, manager } = await courseWithManager(t);
      const staff = await createUser(t, { isStaff: true });
      const url = `${await listeningUrl(t)}${BASE}`;
      // The creation has read the project and waits to insert when the project is deleted.
      const [created] = await whileHeld(
        t,
        [[`SELECT pg_advisory_xact_lock(hashtext('course_accounts:' || $1))`, [project.id]]],
        1,
        async () => {
          const creation = fetch(url, {
            method: 'POST',
            headers: { ...manager.auth, 'content-type': 'application/json' },
            body: JSON.stringify({ project: project.id, email: 'late@example.edu' }),
          }).then(async (r) => ({ status: r.status, body: (await r.json()) as { error?: string } }));
          await lockWaitersReach(t, 1);
          await t.http.delete(`/api/v1/projects/${project.id}`).set(staff.auth).expect(204);
          return [creation];
        },
      );
      expect(await created).toMatchObject({ status: 400, body: { error: 'project_deleted' } });
      expect(
        await ds(t).query(`SELECT id FROM course_accounts WHERE project_id = $1 AND state <> 'CLOSED'`, [project.id]),
      ).toEqual([]);
    });

    it('does not start a job for a deleted project without live accounts', async () => {
      const org = await createOrganization(t);
      const project = await createProject(t, org.id);
      const staff = await createUser(t, { isStaff: true });
      await t.http.delete(`/api/v1/projects/${project.id}`).set(staff.auth).expect(204);
      const jobs = await ds(t).query(`SELECT id FROM jobs WHERE payload->>'projectId' = $1`, [project.id]);
      expect(jobs).toEqual([]);
    });

    it('reconciles: an OK account missing upstream becomes ERRED, and a retry creates it anew', async () => {
      const { project, manager } = await courseWithManager(t);
      const staff = await createUser(t, { isStaff: true });
      const created = (
        await t.http.post(BASE).set(manager.auth).send({ project: project.id, email: 'gone@example.edu' }).expect(201)
      ).body;
      const kept = (
        await t.http.post(BASE).set(manager.auth).send({ project: project.id, email: 'kept@example.edu' }).expect(201)
      ).body;
      await ds(t).query('DELETE FROM course_account_mock_backend WHERE username = $1', [created.username]);
      await t.http.post(`${BASE}/reconcile`).set(manager.auth).expect(403);
      const res = await t.http.post(`${BASE}/reconcile?project=${project.id}`).set(staff.auth).expect(202);
      await jobDone(t, res.body.job_id);
      expect(await jobResult(t, res.body.job_id)).toMatchObject({
        accounts: 2,
        ok: 1,
        missing: 1,
        failed: [{ id: created.id, error: 'missing on backend' }],
      });
      expect(await account(t, created.id)).toMatchObject({
        state: 'ERRED',
        errorMessage: 'missing on backend',
        failedOperation: 'create',
      });
      expect((await account(t, kept.id)).state).toBe('OK');

      const retried = await t.http.post(`${BASE}/${created.id}/retry`).set(manager.auth).expect(202);
      expect(retried.body).toMatchObject({ state: 'PENDING', error_message: null, job_id: expect.any(String) });
      await jobDone(t, retried.body.job_id);
      const after = await account(t, created.id);
      expect(after.state).toBe('OK');
      expect(after.username).not.toBe(created.username);
      expect(after.idempotencyKey).not.toBe(created.id);
    });

    it('schedules the expiry job once per interval, and resumes accounts stuck PENDING', async () => {
      const scheduler = t.app.get(CourseAccountsScheduler);
      await ds(t).query(`DELETE FROM jobs WHERE name = 'course-accounts.close-expired'`);
      const first = await scheduler.tick();
      expect(first.closeExpired).toEqual(expect.any(String));
      expect((await scheduler.tick()).closeExpired).toBeUndefined();
      await jobDone(t, first.closeExpired!);

      const { project, manager } = await courseWithManager(t);
      const created = (
        await t.http.post(BASE).set(manager.auth).send({ project: project.id, email: 'stuck@example.edu' }).expect(201)
      ).body;
      // As if the request had died between recording the account and creating it upstream.
      await ds(t).query(
        `UPDATE course_accounts SET state = 'PENDING', username = NULL, updated_at = now() - interval '1 hour' WHERE id = $1`,
        [created.id],
      );
      // This tick, or the periodic look of the same process if it came first, resumes it.
      const { recovery } = await scheduler.tick();
      if (recovery) await jobDone(t, recovery);
      const after = await waitFor(
        async () => {
          const a = await account(t, created.id);
          return a.state === 'OK' && a;
        },
        10_000,
        'the stalled account to be created',
      );
      expect(after).toMatchObject({ state: 'OK', username: created.username });
      const [{ n }] = await ds(t).query(
        'SELECT count(*)::int AS n FROM course_account_mock_backend WHERE idempotency_key = $1',
        [after.idempotencyKey],
      );
      expect(n).toBe(1);
      await waitFor(async () => (await scheduler.tick()).recovery === undefined, 5000, 'nothing left stuck');
    });
  });
});
