import { getDataSourceToken } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Job } from '../../src/jobs/job.entity';
import { JobsService } from '../../src/jobs/jobs.service';
import {
  Authenticated,
  createOrganization,
  createServiceAccount,
  createStaff,
  createUser,
} from '../factories/accounts';
import { jobSettings, waitFor } from '../utils/jobs-helpers';
import { fileContent, JobsTestModule, STEPS_JOB, StepsPayload } from '../utils/jobs-test.module';
import { createTestApp, TestApp } from '../utils/test-app';

jest.setTimeout(60_000);

describe('Jobs API', () => {
  let t: TestApp;
  let jobs: JobsService;
  let alice: Authenticated<unknown>;
  let bob: Authenticated<unknown>;
  let staff: Authenticated<unknown>;
  let robot: Authenticated<unknown>;

  beforeAll(async () => {
    t = await createTestApp({
      imports: [JobsTestModule],
      settings: jobSettings('in-process', { JOB_CONCURRENCY: '1' }),
    });
    jobs = t.app.get(JobsService);
    alice = await createUser(t);
    bob = await createUser(t);
    staff = await createStaff(t);
    robot = await createServiceAccount(t, (await createOrganization(t)).id);
  });
  afterAll(() => t?.close());

  const settled = (id: string) =>
    waitFor(
      async () => {
        const job = await t.app.get<DataSource>(getDataSourceToken()).getRepository(Job).findOneByOrFail({ id });
        return ['Succeeded', 'Failed', 'Canceled'].includes(job.state) && job;
      },
      15_000,
      `job ${id}`,
    );

  const run = async (who: Authenticated<unknown>, payload: StepsPayload = { steps: 1 }) => {
    const { id } = await jobs.enqueue(STEPS_JOB, payload, { owner: who.principal });
    await settled(id);
    return id;
  };

  it('shows the owner its job with progress, artifacts and text', async () => {
    const id = await run(alice, { steps: 2, result: 'two steps done', file: { name: 'data.txt', bytes: 5000 } });
    const res = await t.http.get(`/api/v1/jobs/${id}`).set(alice.auth).expect(200);
    expect(res.body).toEqual({
      job_id: id,
      name: 'test.steps',
      state: 'Succeeded',
      created: expect.any(String),
      modified: expect.any(String),
      completed_steps: 2,
      total_steps: 2,
      attempts: 1,
      error: null,
      artifacts: [
        {
          name: 'data.txt',
          url: expect.stringMatching(new RegExp(`/api/v1/jobs/${id}/artifacts/data.txt$`)),
          content_type: 'text/plain',
          size: 5000,
        },
        {
          name: 'result',
          url: expect.stringMatching(/\/artifacts\/result$/),
          content_type: 'text/plain; charset=utf-8',
          size: 14,
        },
      ],
      text: 'two steps done',
    });
  });

  it("answers 404 for another principal's job, for every route", async () => {
    const id = await run(alice, { steps: 1, result: 'private' });
    for (const who of [bob, robot]) {
      for (const res of [
        await t.http.get(`/api/v1/jobs/${id}`).set(who.auth),
        await t.http.post(`/api/v1/jobs/${id}/cancel`).set(who.auth),
        await t.http.get(`/api/v1/jobs/${id}/artifacts/result`).set(who.auth),
      ]) {
        expect(res.status).toBe(404);
        expect(res.body.error).toBe('not_found');
      }
    }
    await t.http.get(`/api/v1/jobs/not-a-uuid`).set(alice.auth).expect(400);
    await t.http.get(`/api/v1/jobs/${id}`).expect(401);
  });

  it('answers permission introspection for a job: the owner may read and cancel it, others see nothing', async () => {
    const id = await run(alice);
    const mine = await t.http.get(`/api/v1/permissions?object_type=Job&object_id=${id}`).set(alice.auth).expect(200);
    expect(mine.body.actions).toEqual(expect.arrayContaining(['read', 'cancel']));
    await t.http.get(`/api/v1/permissions?object_type=Job&object_id=${id}`).set(bob.auth).expect(404);
  });

  it('lets staff see and list every job', async () => {
    const id = await run(bob);
    await t.http.get(`/api/v1/jobs/${id}`).set(staff.auth).expect(200);
    const list = await t.http.get('/api/v1/jobs?page_size=500').set(staff.auth).expect(200);
    expect(list.body.results.map((j: { job_id: string }) => j.job_id)).toContain(id);
  });

  it('lists the caller’s own jobs, filtered and paginated with links', async () => {
    const carol = await createUser(t);
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push(await run(carol));
    const failed = await jobs.enqueue(
      STEPS_JOB,
      { steps: 1, failTimes: 9 },
      { owner: carol.principal, maxAttempts: 1 },
    );
    await settled(failed.id);
    await run(robot);

    const page1 = await t.http
      .get('/api/v1/jobs?page_size=2&state=Succeeded&name=test.steps')
      .set(carol.auth)
      .expect(200);
    expect(page1.body.count).toBe(3);
    expect(page1.body.results.map((j: { job_id: string }) => j.job_id)).toEqual([ids[2], ids[1]]);
    expect(page1.body.next).toMatch(/page=2/);
    const page2 = await t.http
      .get(new URL(page1.body.next).pathname + new URL(page1.body.next).search)
      .set(carol.auth)
      .expect(200);
    expect(page2.body.results.map((j: { job_id: string }) => j.job_id)).toEqual([ids[0]]);
    const failures = await t.http.get('/api/v1/jobs?state=Failed').set(carol.auth).expect(200);
    expect(failures.body.results).toEqual([
      expect.objectContaining({ job_id: failed.id, state: 'Failed', error: 'planned failure (attempt 1)' }),
    ]);
    const robots = await t.http.get('/api/v1/jobs').set(robot.auth).expect(200);
    expect(robots.body.results.every((j: { name: string }) => j.name === 'test.steps')).toBe(true);
    expect(robots.body.count).toBe(1);
    await t.http.get('/api/v1/jobs?state=Done').set(carol.auth).expect(400);
  });

  it('cancels a waiting job, asks a running one to stop, and refuses a finished one with 409', async () => {
    const running = await jobs.enqueue(STEPS_JOB, { steps: 100, stepMs: 30 }, { owner: alice.principal });
    await waitFor(
      async () => (await t.http.get(`/api/v1/jobs/${running.id}`).set(alice.auth)).body.state === 'In Progress',
      10_000,
      'running',
    );
    const waiting = await jobs.enqueue(STEPS_JOB, { steps: 1 }, { owner: alice.principal });

    const canceled = await t.http.post(`/api/v1/jobs/${waiting.id}/cancel`).set(alice.auth).expect(200);
    expect(canceled.body.state).toBe('Canceled');
    const asked = await t.http.post(`/api/v1/jobs/${running.id}/cancel`).set(alice.auth).expect(200);
    expect(asked.body.state).toBe('In Progress');
    expect((await settled(running.id)).state).toBe('Canceled');

    const again = await t.http.post(`/api/v1/jobs/${waiting.id}/cancel`).set(alice.auth).expect(409);
    expect(again.body).toMatchObject({ error: 'invalid_state', details: { state: 'Canceled' } });
  });

  it('streams a stored artifact to its owner and serves inline text', async () => {
    const bytes = 2 * 1024 * 1024 + 17;
    const id = await run(alice, { steps: 1, result: 'short', file: { name: 'big.txt', bytes } });
    const res = await t.http
      .get(`/api/v1/jobs/${id}/artifacts/big.txt`)
      .set(alice.auth)
      .buffer(true)
      .parse((r, done) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => done(null, Buffer.concat(chunks)));
      })
      .expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.headers['content-length']).toBe(String(bytes));
    expect(res.headers['content-disposition']).toBe('attachment; filename="big.txt"');
    expect((res.body as Buffer).equals(Buffer.concat(await fileContent(bytes).toArray()))).toBe(true);

    const text = await t.http.get(`/api/v1/jobs/${id}/artifacts/result`).set(alice.auth).expect(200);
    expect(text.text).toBe('short');
    const missing = await t.http.get(`/api/v1/jobs/${id}/artifacts/nothing.csv`).set(alice.auth).expect(404);
    expect(missing.body.error).toBe('artifact_not_found');
    await t.http.get(`/api/v1/jobs/${id}/artifacts/big.txt`).set(staff.auth).expect(200);
  });
});
