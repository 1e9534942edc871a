import { randomUUID } from 'node:crypto';
import { account, courseWithManager, jobDone } from '../utils/course-accounts';
import { FakeCourseBackend, startFakeCourseBackend } from '../utils/fake-course-backend';
import { jobSettings } from '../utils/jobs-helpers';
import { createTestApp, TestApp } from '../utils/test-app';

jest.setTimeout(60_000);

const BASE = '/api/v1/course-accounts';

describe('Course accounts: array creations on the HTTP backend (COURSE_ACCOUNTS_BATCH_SIZE)', () => {
  let t: TestApp;
  let fake: FakeCourseBackend;
  beforeAll(async () => {
    fake = await startFakeCourseBackend();
    t = await createTestApp({
      settings: jobSettings(
        'in-process',
        fake.settings({
          COURSE_ACCOUNTS_BATCH_SIZE: '10',
          COURSE_ACCOUNTS_RETRIES: '0',
          COURSE_ACCOUNTS_TIMEOUT_MS: '2000',
        }),
      ),
    });
  });
  afterAll(async () => {
    await t?.close();
    await fake?.close();
  });
  beforeEach(() => fake.reset());

  async function bulk(n: number) {
    const { project, manager } = await courseWithManager(t);
    const rows = Array.from({ length: n }, () => ({ email: `${randomUUID()}@example.edu` }));
    const res = await t.http
      .post(`${BASE}/bulk`)
      .set(manager.auth)
      .send({ project: project.id, course_accounts: rows })
      .expect(202);
    await jobDone(t, res.body.job_id);
    const accounts = await Promise.all(
      (res.body.course_accounts as { id: string; email: string }[]).map((a) => account(t, a.id)),
    );
    return { rows, accounts };
  }

  it('creates accounts in arrays of up to the batch size, each mapped back to its account', async () => {
    const { accounts } = await bulk(25);
    expect(accounts.map((a) => a.state)).toEqual(Array(25).fill('OK'));
    expect(fake.batchSizes.length).toBeGreaterThanOrEqual(3);
    expect(Math.max(...fake.batchSizes)).toBeLessThanOrEqual(10);
    expect(fake.batchSizes.reduce((a, b) => a + b, 0)).toBe(25);
    for (const a of accounts) {
      const upstream = fake.accounts.get(a.username!)!;
      expect({ email: upstream.email, key: upstream.idempotencyKey }).toEqual({
        email: a.email,
        key: a.idempotencyKey,
      });
    }
    expect(new Set(accounts.map((a) => a.username)).size).toBe(25);
  });

  it('leaves accounts missing from the answer ERRED with the reason, and a failed call ERRED for all', async () => {
    fake.fail = { omitFromBatch: [] };
    const first = await (async () => {
      const { project, manager } = await courseWithManager(t);
      const emails = Array.from({ length: 6 }, () => `${randomUUID()}@example.edu`);
      fake.fail.omitFromBatch = [emails[2]];
      const res = await t.http
        .post(`${BASE}/bulk`)
        .set(manager.auth)
        .send({ project: project.id, course_accounts: emails.map((email) => ({ email })) })
        .expect(202);
      await jobDone(t, res.body.job_id);
      return Promise.all((res.body.course_accounts as { id: string }[]).map((a) => account(t, a.id)));
    })();
    const missing = first.filter((a) => a.state === 'ERRED');
    expect(missing).toHaveLength(1);
    expect(missing[0].username).toBeNull();
    expect(missing[0].errorMessage).toMatch(/did not include this one/);
    expect(first.filter((a) => a.state === 'OK').every((a) => a.username)).toBe(true);

    fake.fail = { createStatus: 503 };
    const { accounts } = await bulk(4);
    expect(accounts.map((a) => [a.state, a.username])).toEqual(Array(4).fill(['ERRED', null]));
    expect(accounts[0].errorMessage).toMatch(/answered 503 when asked to create \d+ accounts/);
  });
});
