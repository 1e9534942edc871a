import { Job } from '../../src/jobs/job.entity';
import { createUser } from '../factories/accounts';
import { account, auditActions, courseWithManager, ds, jobDone, jobResult } from '../utils/course-accounts';
import { FakeCourseBackend, startFakeCourseBackend } from '../utils/fake-course-backend';
import { listeningUrl } from '../utils/held-rows';
import { jobSettings, waitFor } from '../utils/jobs-helpers';
import { createTestApp, TestApp } from '../utils/test-app';

jest.setTimeout(60_000);

const BASE = '/api/v1/course-accounts';

describe('Course accounts on the HTTP backend (fake temporary-accounts API)', () => {
  let t: TestApp;
  let fake: FakeCourseBackend;
  beforeAll(async () => {
    fake = await startFakeCourseBackend();
    // The plain application: object checks work without the authorization guard mounted.
    t = await createTestApp({
      settings: jobSettings(
        'in-process',
        fake.settings({
          COURSE_ACCOUNTS_TIMEOUT_MS: '400',
          COURSE_ACCOUNTS_RETRIES: '1',
          COURSE_ACCOUNTS_CONCURRENCY: '4',
        }),
      ),
    });
  });
  afterAll(async () => {
    await t?.close();
    await fake?.close();
  });
  beforeEach(() => fake.reset());

  it('creates the account upstream with the project as its scope', async () => {
    const { project, manager } = await courseWithManager(t);
    const res = await t.http
      .post(BASE)
      .set(manager.auth)
      .send({ project: project.id, email: 'ann@example.edu', description: 'Ann' })
      .expect(201);
    const upstream = fake.accounts.get(res.body.username)!;
    expect(res.body).toMatchObject({ state: 'OK', backend_id: upstream.uuid });
    expect(upstream).toMatchObject({
      email: 'ann@example.edu',
      description: 'Ann',
      ownerUsername: manager.row.username,
      scopeSlug: project.key,
      scopeValidTo: project.endDate,
    });
    expect(upstream.idempotencyKey).toBe(res.body.id);
    const body = JSON.parse(fake.requests.find((r) => r.method === 'POST' && r.path === '/api/temp-accounts')!.body);
    expect(body).toMatchObject({
      scopeType: 'project',
      scopeName: project.name,
      scopeOfferingSlugs: ['hpc-basic', 'storage'],
      scopeValidFrom: project.startDate,
    });
  });

  it('answers 201 ERRED with the upstream status and body when creation fails, and a retry creates it once', async () => {
    const { project, manager } = await courseWithManager(t);
    fake.fail = { createStatus: 500 };
    const res = await t.http
      .post(BASE)
      .set(manager.auth)
      .send({ project: project.id, email: 'bo@example.edu' })
      .expect(201);
    expect(res.body).toMatchObject({ state: 'ERRED', username: null });
    expect(res.body.error_message).toContain('500');
    expect(res.body.error_message).toContain('Upstream directory is unavailable');
    expect(res.body.error_traceback).toContain('status: 500');
    expect(res.body.error_traceback).toContain('attempts: 2');
    expect(fake.counts.createRequests).toBe(2);
    expect((await account(t, res.body.id)).failedOperation).toBe('create');

    fake.fail = {};
    const retried = await t.http.post(`${BASE}/${res.body.id}/retry`).set(manager.auth).expect(202);
    expect(retried.body.state).toBe('PENDING');
    await jobDone(t, retried.body.job_id);
    const after = await account(t, res.body.id);
    expect(after).toMatchObject({ state: 'OK', errorMessage: null, failedOperation: null });
    expect(fake.counts.creations).toBe(1);
    expect(
      (await auditActions(t, res.body.id))
        .filter((e) => e.action === 'course_account.state_changed')
        .map((e) => e.data.to),
    ).toEqual(['ERRED', 'PENDING', 'OK']);
  });

  it('records a timeout, and works with slow answers inside it', async () => {
    const { project, manager } = await courseWithManager(t);
    fake.fail = { hangCreates: true };
    const timedOut = await t.http
      .post(BASE)
      .set(manager.auth)
      .send({ project: project.id, email: 'slow@example.edu' })
      .expect(201);
    expect(timedOut.body.state).toBe('ERRED');
    expect(timedOut.body.error_message).toContain('no answer within 400 ms');
    fake.fail = { delayMs: 100 };
    const slow = await t.http
      .post(BASE)
      .set(manager.auth)
      .send({ project: project.id, email: 'slow2@example.edu' })
      .expect(201);
    expect(slow.body.state).toBe('OK');
  });

  it('does not create twice when the answer to a creation is lost', async () => {
    const { project, manager } = await courseWithManager(t);
    fake.fail = { loseCreateAnswers: 1 };
    const res = await t.http
      .post(BASE)
      .set(manager.auth)
      .send({ project: project.id, email: 'lost@example.edu' })
      .expect(201);
    expect(res.body.state).toBe('OK');
    expect(fake.counts).toMatchObject({ createRequests: 2, creations: 1 });
  });

  it('gets a new token when the API refuses the cached one', async () => {
    const { project, manager } = await courseWithManager(t);
    await t.http.post(BASE).set(manager.auth).send({ project: project.id }).expect(201);
    fake.revokeTokens();
    await t.http.post(BASE).set(manager.auth).send({ project: project.id }).expect(201);
    expect(fake.counts).toMatchObject({ unauthorized: 1, tokenRequests: 1, creations: 2 });
  });

  describe('closing', () => {
    it('answers 502 when the backend refuses, keeps the account ERRED with the error, and a retry closes it', async () => {
      const { project, manager } = await courseWithManager(t);
      const created = (
        await t.http.post(BASE).set(manager.auth).send({ project: project.id, email: 'cl@example.edu' }).expect(201)
      ).body;
      fake.fail = { closeStatus: 500 };
      const res = await t.http.delete(`${BASE}/${created.id}`).set(manager.auth).expect(502);
      expect(res.body).toMatchObject({
        error: 'backend_error',
        details: { id: created.id, state: 'ERRED', upstream_status: 500 },
      });
      const erred = await account(t, created.id);
      expect(erred).toMatchObject({ state: 'ERRED', failedOperation: 'close', username: created.username });
      expect(erred.errorMessage).toContain('500');
      const [user] = await ds(t).query('SELECT is_active FROM users WHERE id = $1', [created.user]);
      expect(user.is_active).toBe(true);

      fake.fail = {};
      const retried = await t.http.post(`${BASE}/${created.id}/retry`).set(manager.auth).expect(202);
      await jobDone(t, retried.body.job_id);
      expect((await account(t, created.id)).state).toBe('CLOSED');
      expect(fake.accounts.get(created.username)!.closed).toBe(true);
      // Made once by the first request; the retry found it upstream instead of making another.
      expect(fake.counts.creations).toBe(1);
    });

    it('closes on retry an account whose close failed and which is gone upstream since, creating nothing', async () => {
      const { project, manager } = await courseWithManager(t);
      const created = (await t.http.post(BASE).set(manager.auth).send({ project: project.id }).expect(201)).body;
      fake.fail = { closeStatus: 500 };
      await t.http.delete(`${BASE}/${created.id}`).set(manager.auth).expect(502);
      fake.fail = {};
      fake.forget(created.username);
      const retried = await t.http.post(`${BASE}/${created.id}/retry`).set(manager.auth).expect(202);
      await jobDone(t, retried.body.job_id);
      expect(await account(t, created.id)).toMatchObject({ state: 'CLOSED', username: created.username });
      expect(fake.counts.creations).toBe(1);
      const [user] = await ds(t).query('SELECT is_active FROM users WHERE id = $1', [created.user]);
      expect(user.is_active).toBe(false);
    });

    it('closes, and does not bring back, an ERRED account whose retry came while its close was under way', async () => {
      const { project, manager } = await courseWithManager(t);
      const created = (await t.http.post(BASE).set(manager.auth).send({ project: project.id }).expect(201)).body;
      // ERRED with its creation to run again, though made upstream: as when a canceled creation's answer came late.
      await ds(t).query(
        `UPDATE course_accounts SET state = 'ERRED', failed_operation = 'create', error_message = 'The job was canceled before this account was done.' WHERE id = $1`,
        [created.id],
      );
      let release!: () => void;
      fake.fail = { closeGate: new Promise<void>((resolve) => (release = resolve)) };
      const closing = fetch(`${await listeningUrl(t)}${BASE}/${created.id}`, {
        method: 'DELETE',
        headers: manager.auth,
      });
      try {
        await waitFor(async () => fake.counts.closes === 1, 5_000, 'the close to reach the backend');
        // The retry comes while the backend is still closing the account.
        const retried = await t.http.post(`${BASE}/${created.id}/retry`).set(manager.auth).expect(202);
        // It runs the close again (held like the first), rather than finding the account upstream and making it OK.
        await waitFor(
          async () =>
            fake.counts.closes === 2 ||
            ['Succeeded', 'Failed'].includes(
              (await ds(t).getRepository(Job).findOneByOrFail({ id: retried.body.job_id })).state,
            ),
          5_000,
          'the retry to close again or finish',
        );
        release();
        // The first close won or lost its move to the retry's (409); held past this suite's 400 ms
        // backend timeout on a slow machine, it may also have timed out (502). Either way:
        expect([204, 409, 502]).toContain((await closing).status);
        await jobDone(t, retried.body.job_id);
      } finally {
        release();
        await closing.catch(() => undefined);
      }
      expect(await account(t, created.id)).toMatchObject({ state: 'CLOSED', username: created.username });
      expect(fake.accounts.get(created.username)!.closed).toBe(true);
      expect(fake.counts.creations).toBe(1);
      const [user] = await ds(t).query('SELECT is_active FROM users WHERE id = $1', [created.user]);
      expect(user.is_active).toBe(false);
    });

    it('treats a close answered 404 as a failure while the account still exists upstream', async () => {
      const { project, manager } = await courseWithManager(t);
      const created = (await t.http.post(BASE).set(manager.auth).send({ project: project.id }).expect(201)).body;
      fake.fail = { closeStatus: 404 };
      const res = await t.http.delete(`${BASE}/${created.id}`).set(manager.auth).expect(502);
      expect(res.body.details.upstream_status).toBe(404);
      expect((await account(t, created.id)).state).toBe('ERRED');
      // Closing the ERRED account again, still refused: it stays ERRED with the new error.
      await t.http.delete(`${BASE}/${created.id}`).set(manager.auth).expect(502);
      expect((await auditActions(t, created.id)).map((e) => e.action)).toContain('course_account.error_recorded');
      fake.fail = {};
      await t.http.delete(`${BASE}/${created.id}`).set(manager.auth).expect(204);
      expect((await account(t, created.id)).state).toBe('CLOSED');
    });

    it('closes an account that is gone upstream', async () => {
      const { project, manager } = await courseWithManager(t);
      const created = (await t.http.post(BASE).set(manager.auth).send({ project: project.id }).expect(201)).body;
      fake.forget(created.username);
      await t.http.delete(`${BASE}/${created.id}`).set(manager.auth).expect(204);
      const events = await auditActions(t, created.id);
      expect(events[events.length - 1].data).toMatchObject({ to: 'CLOSED', upstream: 'missing' });
    });
  });

  describe('bulk creation', () => {
    it('creates every row upstream once with bounded concurrency', async () => {
      const { project, manager } = await courseWithManager(t);
      fake.fail = { delayMs: 20 };
      const rows = Array.from({ length: 40 }, (_, i) => ({ email: `b${i}@example.edu` }));
      const res = await t.http
        .post(`${BASE}/bulk`)
        .set(manager.auth)
        .send({ project: project.id, course_accounts: rows })
        .expect(202);
      const job = await jobDone(t, res.body.job_id);
      expect(job.state).toBe('Succeeded');
      expect(await jobResult(t, res.body.job_id)).toMatchObject({ accounts: 40, ok: 40, failed_count: 0 });
      expect(fake.counts.creations).toBe(40);
      expect([...fake.creationsByKey().values()].every((n) => n === 1)).toBe(true);
      expect(fake.counts.tokenRequests).toBe(0);
    });

    it('leaves no account PENDING when the job is canceled midway', async () => {
      const { project, manager } = await courseWithManager(t);
      fake.fail = { delayMs: 100 };
      const rows = Array.from({ length: 40 }, (_, i) => ({ email: `x${i}@example.edu` }));
      const res = await t.http
        .post(`${BASE}/bulk`)
        .set(manager.auth)
        .send({ project: project.id, course_accounts: rows })
        .expect(202);
      await waitFor(
        async () =>
          (
            await ds(t).query(`SELECT 1 FROM course_accounts WHERE project_id = $1 AND state = 'OK' LIMIT 1`, [
              project.id,
            ])
          ).length > 0,
      );
      await t.http.post(`/api/v1/jobs/${res.body.job_id}/cancel`).set(manager.auth).expect(200);
      expect((await jobDone(t, res.body.job_id)).state).toBe('Canceled');
      const states: { state: string; error_message: string | null; n: number }[] = await ds(t).query(
        `SELECT state, error_message, count(*)::int AS n FROM course_accounts WHERE project_id = $1 GROUP BY 1, 2 ORDER BY 1`,
        [project.id],
      );
      expect(states.map((r) => r.state)).toEqual(['ERRED', 'OK']);
      expect(states[0].error_message).toBe('The job was canceled before this account was done.');
      expect(states.reduce((n, r) => n + r.n, 0)).toBe(40);
      // Every OK account exists upstream, and nothing was made for the ERRED ones.
      expect(fake.counts.creations).toBe(states[1].n);
    });

    it('marks the rows ERRED with the token error when the token endpoint fails, without hammering it', async () => {
      const { project, manager } = await courseWithManager(t);
      fake.revokeTokens();
      fake.fail = { tokenStatus: 500 };
      const rows = Array.from({ length: 25 }, (_, i) => ({ email: `t${i}@example.edu` }));
      const res = await t.http
        .post(`${BASE}/bulk`)
        .set(manager.auth)
        .send({ project: project.id, course_accounts: rows })
        .expect(202);
      const job = await jobDone(t, res.body.job_id);
      expect(job.state).toBe('Succeeded');
      const result = await jobResult<{ erred: number; failed_count: number; failed: { error: string }[] }>(
        t,
        res.body.job_id,
      );
      expect(result).toMatchObject({ erred: 25, failed_count: 25 });
      expect(result.failed[0].error).toContain('token endpoint answered 500');
      const states = await ds(t).query(
        `SELECT DISTINCT state, error_message FROM course_accounts WHERE project_id = $1`,
        [project.id],
      );
      expect(states).toEqual([{ state: 'ERRED', error_message: 'The token endpoint answered 500' }]);
      // One failed token request per concurrent row at most, with its retry — not one per row.
      expect(fake.counts.tokenRequests).toBeLessThanOrEqual(2 * 4);
      expect(fake.counts.createRequests).toBe(0);

      fake.fail = {};
      const first = res.body.course_accounts[0].id;
      const retried = await t.http.post(`${BASE}/${first}/retry`).set(manager.auth).expect(202);
      await jobDone(t, retried.body.job_id);
      expect((await account(t, first)).state).toBe('OK');
    });
  });

  describe('lifecycle jobs', () => {
    it('closes the accounts of a deleted project past failures, listing them; the daily job finishes the rest', async () => {
      const { project, manager } = await courseWithManager(t);
      const staff = await createUser(t, { isStaff: true });
      const ids: string[] = [];
      for (const email of ['p1@example.edu', 'p2@example.edu', 'p3@example.edu']) {
        ids.push((await t.http.post(BASE).set(manager.auth).send({ project: project.id, email }).expect(201)).body.id);
      }
      const failing = (await account(t, ids[1])).username!;
      fake.fail = { closeStatus: 503, closeFailUsernames: [failing] };
      await t.http.delete(`/api/v1/projects/${project.id}`).set(staff.auth).expect(204);
      const [job] = await ds(t).query(
        `SELECT id FROM jobs WHERE name = 'course-accounts.close-project' AND payload->>'projectId' = $1`,
        [project.id],
      );
      expect((await jobDone(t, job.id)).state).toBe('Succeeded');
      const result = await jobResult<{ accounts: number; failed: { id: string; error: string }[] }>(t, job.id);
      expect(result).toMatchObject({ accounts: 3, closed: 2, erred: 1, failed_count: 1 });
      expect(result.failed).toEqual([
        expect.objectContaining({ id: ids[1], username: failing, error: expect.stringContaining('503') }),
      ]);
      expect(await account(t, ids[1])).toMatchObject({ state: 'ERRED', failedOperation: 'close' });
      for (const id of [ids[0], ids[2]]) expect((await account(t, id)).state).toBe('CLOSED');

      fake.fail = {};
      const daily = await t.http.post(`${BASE}/close-expired`).set(staff.auth).expect(202);
      await jobDone(t, daily.body.job_id);
      for (const id of ids) expect((await account(t, id)).state).toBe('CLOSED');
    });

    it('reconciles against the backend', async () => {
      const { project, manager } = await courseWithManager(t);
      const staff = await createUser(t, { isStaff: true });
      const gone = (await t.http.post(BASE).set(manager.auth).send({ project: project.id }).expect(201)).body;
      const kept = (await t.http.post(BASE).set(manager.auth).send({ project: project.id }).expect(201)).body;
      fake.forget(gone.username);
      const res = await t.http.post(`${BASE}/reconcile?project=${project.id}`).set(staff.auth).expect(202);
      await jobDone(t, res.body.job_id);
      expect(await account(t, gone.id)).toMatchObject({ state: 'ERRED', errorMessage: 'missing on backend' });
      expect((await account(t, kept.id)).state).toBe('OK');
    });
  });
});
