import { Client } from 'pg';
import { CourseAccountsScheduler } from '../../src/course-accounts/course-accounts.scheduler';
import { JobsSweeper } from '../../src/jobs/jobs.sweeper';
import { account, auditActions, courseWithManager, ds, jobDone } from '../utils/course-accounts';
import { jobSettings, waitFor } from '../utils/jobs-helpers';
import { createTestApp, TestApp } from '../utils/test-app';

jest.setTimeout(60_000);

const BASE = '/api/v1/course-accounts';

/** As if the process creating the account within its request had died before recording the answer. */
async function stallCreation(t: TestApp, id: string, since = "now() - interval '1 hour'"): Promise<void> {
  await ds(t).query(
    `UPDATE course_accounts SET state = 'PENDING', username = NULL, backend_id = NULL, updated_at = ${since} WHERE id = $1`,
    [id],
  );
}

async function createOne(t: TestApp, email: string) {
  const { project, manager } = await courseWithManager(t);
  const res = await t.http.post(BASE).set(manager.auth).send({ project: project.id, email }).expect(201);
  expect(res.body.state).toBe('OK');
  return { project, manager, created: res.body as { id: string; username: string } };
}

async function upstreamCopies(t: TestApp, idempotencyKey: string) {
  return ds(t).query(`SELECT username, closed_at FROM course_account_mock_backend WHERE idempotency_key = $1`, [
    idempotencyKey,
  ]) as Promise<{ username: string; closed_at: Date | null }[]>;
}

describe('Course accounts whose creation stopped (queued jobs, no worker)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      settings: jobSettings('bull', {
        JOB_WORKERS_ENABLED: 'false',
        COURSE_ACCOUNTS_PENDING_TIMEOUT_MS: '1000',
        COURSE_ACCOUNTS_PENDING_CHECK_INTERVAL_MS: '0',
      }),
    });
  });
  afterAll(() => t.close());

  async function bulk(emails: string[]) {
    const { project, manager } = await courseWithManager(t);
    const res = await t.http
      .post(`${BASE}/bulk`)
      .set(manager.auth)
      .send({ project: project.id, course_accounts: emails.map((email) => ({ email })) })
      .expect(202);
    return {
      manager,
      jobId: res.body.job_id as string,
      ids: (res.body.course_accounts as { id: string }[]).map((a) => a.id),
    };
  }

  it('leaves the accounts of a creation job ERRED with the reason once the sweeper fails it after its last worker died', async () => {
    const { manager, jobId, ids } = await bulk(['dead1@example.edu', 'dead2@example.edu']);
    // The third and last attempt's worker was killed: running, no heartbeat for an hour.
    await ds(t).query(
      `UPDATE jobs SET state = 'In Progress', attempts = max_attempts, lease = max_attempts, started_at = now(),
              heartbeat_at = now() - interval '1 hour' WHERE id = $1`,
      [jobId],
    );
    const swept = await t.app.get(JobsSweeper).sweep();
    expect(swept.recovered.Failed).toBe(1);
    expect((await jobDone(t, jobId)).state).toBe('Failed');
    for (const id of ids) {
      expect(await account(t, id)).toMatchObject({
        state: 'ERRED',
        failedOperation: 'create',
        errorMessage: expect.stringMatching(
          /^The creation job failed: The worker running attempt 3 stopped responding/,
        ),
      });
    }
    await t.http.post(`${BASE}/${ids[0]}/retry`).set(manager.auth).expect(202);
  });

  it('leaves the accounts of a creation job canceled before it ran ERRED, retryable', async () => {
    const { manager, jobId, ids } = await bulk(['cancel1@example.edu']);
    const canceled = await t.http.post(`/api/v1/jobs/${jobId}/cancel`).set(manager.auth).expect(200);
    expect(canceled.body.state).toBe('Canceled');
    expect(await account(t, ids[0])).toMatchObject({
      state: 'ERRED',
      errorMessage: 'The job was canceled before this account was done.',
    });
  });

  it('neither retries, closes nor hands to another job an account a waiting job still holds, however old', async () => {
    const { manager, ids } = await bulk(['held@example.edu']);
    await ds(t).query(`UPDATE course_accounts SET updated_at = now() - interval '1 hour' WHERE id = $1`, [ids[0]]);
    for (const res of [
      await t.http.post(`${BASE}/${ids[0]}/retry`).set(manager.auth),
      await t.http.delete(`${BASE}/${ids[0]}`).set(manager.auth),
    ]) {
      expect({ status: res.status, error: res.body.error, state: res.body.details?.state }).toEqual({
        status: 409,
        error: 'invalid_transition',
        state: 'PENDING',
      });
    }
    expect(await t.app.get(CourseAccountsScheduler).recoverStalled()).toEqual({});
    expect((await account(t, ids[0])).state).toBe('PENDING');
  });
});

describe('Course accounts whose creating request died (in-process jobs)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      settings: jobSettings('in-process', {
        COURSE_ACCOUNTS_PENDING_TIMEOUT_MS: '1000',
        COURSE_ACCOUNTS_PENDING_CHECK_INTERVAL_MS: '0',
      }),
    });
  });
  afterAll(() => t.close());

  it('refuses a retry while the creation may still run, and retries it once it has stalled', async () => {
    const { manager, created } = await createOne(t, 'retry-stalled@example.edu');
    await stallCreation(t, created.id, 'now()');
    const early = await t.http.post(`${BASE}/${created.id}/retry`).set(manager.auth).expect(409);
    expect(early.body).toMatchObject({
      error: 'invalid_transition',
      details: { state: 'PENDING', pending_timeout_ms: 1000 },
    });
    await t.http.delete(`${BASE}/${created.id}`).set(manager.auth).expect(409);

    await stallCreation(t, created.id);
    const retried = await t.http.post(`${BASE}/${created.id}/retry`).set(manager.auth).expect(202);
    expect(retried.body).toMatchObject({ id: created.id, state: 'PENDING', job_id: expect.any(String) });
    await jobDone(t, retried.body.job_id);
    const after = await account(t, created.id);
    // The creation repeated under the same idempotency key found the account made the first time.
    expect(after).toMatchObject({ state: 'OK', username: created.username });
    expect(await upstreamCopies(t, after.idempotencyKey)).toHaveLength(1);
    const moves = (await auditActions(t, created.id)).filter((e) => e.action === 'course_account.state_changed');
    expect(moves.slice(-3).map((e) => [e.data.from, e.data.to])).toEqual([
      ['PENDING', 'ERRED'],
      ['ERRED', 'PENDING'],
      ['PENDING', 'OK'],
    ]);
  });

  it('closes a stalled account through a job that finds it upstream first, so nothing stays open there', async () => {
    const { manager, created } = await createOne(t, 'close-stalled@example.edu');
    await stallCreation(t, created.id);
    const closing = await t.http.delete(`${BASE}/${created.id}`).set(manager.auth).expect(202);
    expect(closing.body).toMatchObject({ id: created.id, state: 'PENDING', job_id: expect.any(String) });
    expect((await jobDone(t, closing.body.job_id)).state).toBe('Succeeded');
    const after = await account(t, created.id);
    expect(after.state).toBe('CLOSED');
    const upstream = await upstreamCopies(t, after.idempotencyKey);
    expect(upstream).toEqual([{ username: created.username, closed_at: expect.any(Date) }]);
  });

  it('is still closed: a foreign-key lock (a participant e-mail being written) does not make it look busy', async () => {
    const { manager, created } = await createOne(t, 'referenced-stalled@example.edu');
    await stallCreation(t, created.id);
    // What inserting a row that references the account holds until its transaction ends.
    const other = new Client({ connectionString: t.database.url });
    await other.connect();
    try {
      await other.query('BEGIN');
      await other.query('SELECT 1 FROM course_accounts WHERE id = $1 FOR KEY SHARE', [created.id]);
      const closing = await t.http.delete(`${BASE}/${created.id}`).set(manager.auth);
      expect({ status: closing.status, state: closing.body.state }).toEqual({ status: 202, state: 'PENDING' });
      await other.query('COMMIT');
      expect((await jobDone(t, closing.body.job_id)).state).toBe('Succeeded');
      expect((await account(t, created.id)).state).toBe('CLOSED');
    } finally {
      await other.end();
    }
  });
});

describe('The periodic look for stalled course accounts', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      settings: jobSettings('in-process', {
        COURSE_ACCOUNTS_PENDING_TIMEOUT_MS: '1000',
        COURSE_ACCOUNTS_PENDING_CHECK_INTERVAL_MS: '1000',
      }),
    });
  });
  afterAll(() => t.close());

  it('resumes a stalled account within COURSE_ACCOUNTS_PENDING_CHECK_INTERVAL_MS, without anyone asking', async () => {
    const { created } = await createOne(t, 'periodic@example.edu');
    await stallCreation(t, created.id);
    const after = await waitFor(
      async () => {
        const a = await account(t, created.id);
        return a.state === 'OK' && a;
      },
      10_000,
      'the stalled account to be created again',
    );
    expect(after.username).toBe(created.username);
  });
});
