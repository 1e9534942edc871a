import Redis from 'ioredis';
import { CronExpression, SchedulerRegistry } from '@nestjs/schedule';
import { getDataSourceToken } from '@nestjs/typeorm';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { text } from 'node:stream/consumers';
import { DataSource } from 'typeorm';
import type { Principal } from '../../src/common/auth/principal';
import { CommonError } from '../../src/common/errors/common.errors';
import { TransactionRunner } from '../../src/database/transaction';
import { Job } from '../../src/jobs/job.entity';
import { JobsRetention } from '../../src/jobs/jobs.retention';
import { JobRunner } from '../../src/jobs/jobs.runner';
import { JobListFilter, JobsService } from '../../src/jobs/jobs.service';
import { JobsSweeper } from '../../src/jobs/jobs.sweeper';
import { QUEUE_ADAPTER, QueueAdapter } from '../../src/jobs/queue/queue-adapter';
import { abilityOf, jobSettings, JobsAdapterName, principal, waitFor } from '../utils/jobs-helpers';
import {
  abandonedJobs,
  JobsTestModule,
  NOOP_JOB,
  runsByJob,
  STEPS_JOB,
  TEST_OWNER,
  TEST_QUEUE,
} from '../utils/jobs-test.module';
import { createUser } from '../factories/accounts';
import { createTestApp, TestApp } from '../utils/test-app';
import { TEST_REDIS_URL } from '../utils/test-databases';

jest.setTimeout(60_000);

describe.each<[JobsAdapterName]>([['in-process'], ['bull']])('Jobs with the %s queue', (adapter) => {
  let t: TestApp;
  let jobs: JobsService;
  let db: DataSource;
  const owner = principal();
  const stranger = principal();
  const staff = principal({ isStaff: true });
  const support = principal({ isSupport: true });
  const service = principal({ type: 'service_account', tokenKind: 'service', organizationId: undefined });

  beforeAll(async () => {
    t = await createTestApp({ imports: [JobsTestModule], settings: jobSettings(adapter, { JOB_CONCURRENCY: '2' }) });
    jobs = t.app.get(JobsService);
    db = t.app.get<DataSource>(getDataSourceToken());
  });
  afterAll(() => t?.close());

  const row = (id: string) => db.getRepository(Job).findOneByOrFail({ id });
  const settled = (id: string, timeoutMs = 15_000) =>
    waitFor(
      async () => {
        const job = await row(id);
        return ['Succeeded', 'Failed', 'Canceled'].includes(job.state) && job;
      },
      timeoutMs,
      `job ${id} to finish`,
    );

  it('runs a job to Succeeded, recording progress, inline text and a stored artifact', async () => {
    const { id } = await jobs.enqueue(
      STEPS_JOB,
      { steps: 3, result: 'done: 3 steps', file: { name: 'out.txt', bytes: 100_000 } },
      { owner },
    );
    expect(await settled(id)).toMatchObject({ state: 'Succeeded', error: null });
    const dto = await jobs.get(await abilityOf(t, owner), id);
    expect(dto).toMatchObject({
      job_id: id,
      name: 'test.steps',
      state: 'Succeeded',
      completed_steps: 3,
      total_steps: 3,
      attempts: 1,
      error: null,
      text: 'done: 3 steps',
    });
    expect(dto.artifacts.map((a) => [a.name, a.size])).toEqual([
      ['out.txt', 100_000],
      ['result', 13],
    ]);
    expect(dto.artifacts[0].url).toMatch(new RegExp(`/api/v1/jobs/${id}/artifacts/out.txt$`));
    const file = await jobs.openArtifact(await abilityOf(t, owner), id, 'out.txt');
    const content = await text(file.stream!);
    expect(content.length).toBe(100_000);
    expect(content.slice(0, 5)).toBe('abcde');
    expect((await jobs.openArtifact(await abilityOf(t, owner), id, 'result')).text).toBe('done: 3 steps');
    await expect(jobs.openArtifact(await abilityOf(t, owner), id, 'nope')).rejects.toMatchObject({
      code: 'artifact_not_found',
    });
  });

  it('runs a job delivered several times only once', async () => {
    const { id } = await jobs.enqueue(STEPS_JOB, { steps: 2, stepMs: 50 }, { owner });
    const queue = t.app.get<QueueAdapter>(QUEUE_ADAPTER);
    const runner = t.app.get(JobRunner);
    await Promise.all([
      queue.dispatch(TEST_QUEUE, { jobId: id, lease: 0 }, 0),
      queue.dispatch(TEST_QUEUE, { jobId: id, lease: 0 }, 0),
      runner.run(id),
      runner.run(id),
    ]);
    const done = await settled(id);
    expect(done).toMatchObject({ state: 'Succeeded', attempts: 1 });
    expect(runsByJob.get(id)).toBe(1);
  });

  it('does not run a job before its retry delay, however early a delivery comes', async () => {
    const [{ id }] = await db.query(
      `INSERT INTO jobs (name, owner_type, owner_id, payload, state, attempts, lease, error, available_at)
       VALUES ('test.steps', 'user', $1, '{"steps":1}', 'Retrying', 1, 1, 'first run failed', now() + interval '1 hour') RETURNING id`,
      [owner.id],
    );
    // A delivery now: the runner tries to claim the job and must leave it waiting.
    await t.app.get(JobRunner).run(id);
    expect(await row(id)).toMatchObject({ state: 'Retrying', attempts: 1 });
    expect(runsByJob.get(id)).toBeUndefined();

    await db.query(`UPDATE jobs SET available_at = now() WHERE id = $1`, [id]);
    await t.app.get<QueueAdapter>(QUEUE_ADAPTER).dispatch(TEST_QUEUE, { jobId: id, lease: 2 }, 0);
    expect(await settled(id)).toMatchObject({ state: 'Succeeded', attempts: 2 });
  });

  it('dispatches a job enqueued in a transaction only after the commit, and never after a rollback', async () => {
    const transactions = t.app.get(TransactionRunner);
    let id = '';
    await transactions.run(async (tx) => {
      ({ id } = await jobs.enqueue(STEPS_JOB, { steps: 1 }, { owner }, tx));
      // Nothing outside the transaction can see (or run) the job yet.
      await new Promise((r) => setTimeout(r, 200));
      expect(await db.getRepository(Job).findOneBy({ id })).toBeNull();
    });
    expect((await settled(id)).state).toBe('Succeeded');

    const before = await db.getRepository(Job).count();
    await expect(
      transactions.run(async (tx) => {
        await jobs.enqueue(STEPS_JOB, { steps: 1 }, { owner }, tx);
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(await db.getRepository(Job).count()).toBe(before);
  });

  it('enqueues inside a request transaction and leaves nothing behind when the request fails', async () => {
    const res = await t.http.post('/api/v1/test-jobs').send({ steps: 1, result: 'ok' }).expect(201);
    expect((await settled(res.body.id)).state).toBe('Succeeded');
    const count = await db.getRepository(Job).count();
    await t.http.post('/api/v1/test-jobs').send({ steps: 1, rollback: true }).expect(500);
    expect(await db.getRepository(Job).count()).toBe(count);
  });

  it('retries a throwing processor with backoff, then fails it with the error text', async () => {
    const { id } = await jobs.enqueue(
      STEPS_JOB,
      { steps: 1, failTimes: 99, failMessage: 'upstream said no' },
      { owner, maxAttempts: 3 },
    );
    const retrying = await waitFor(
      async () => {
        const job = await row(id);
        return job.state === 'Retrying' && job;
      },
      10_000,
      'Retrying',
    );
    expect(retrying.attempts).toBe(1);
    expect(retrying.error).toBe('upstream said no (attempt 1)');
    // The next run is not due before the backoff.
    expect(retrying.availableAt.getTime()).toBeGreaterThan(retrying.updatedAt.getTime() + 150);
    expect(abandonedJobs.has(id)).toBe(false);
    const failed = await settled(id);
    expect(failed).toMatchObject({ state: 'Failed', attempts: 3, error: 'upstream said no (attempt 3)' });
    // Its processor hears that it was given up, with the payload, to release what the payload holds.
    expect(await waitFor(async () => abandonedJobs.get(id), 5000, 'abandoned()')).toEqual({
      state: 'Failed',
      error: 'upstream said no (attempt 3)',
      payload: { steps: 1, failTimes: 99, failMessage: 'upstream said no' },
    });
    expect(failed.finishedAt).not.toBeNull();
    // Backoff doubles: 200 ms then 400 ms between the three runs.
    expect(failed.finishedAt!.getTime() - failed.startedAt!.getTime()).toBeGreaterThanOrEqual(550);
  });

  it('fails a job at once, whatever attempts remain, on an error no retry can fix', async () => {
    const { id } = await jobs.enqueue(
      STEPS_JOB,
      { steps: 1, failTimes: 99, failMessage: 'the file names no such course', unrecoverable: true },
      { owner, maxAttempts: 3 },
    );
    const failed = await settled(id);
    expect(failed).toMatchObject({ state: 'Failed', attempts: 1, error: 'the file names no such course (attempt 1)' });
    expect(failed.finishedAt).not.toBeNull();
    expect(runsByJob.get(id)).toBe(1);
  });

  it('succeeds on a retry after a failure and clears the error', async () => {
    const { id } = await jobs.enqueue(STEPS_JOB, { steps: 1, failTimes: 1 }, { owner });
    expect(await settled(id)).toMatchObject({ state: 'Succeeded', attempts: 2, error: null });
  });

  it('cancels a waiting job at once and a running job at its next step; a finished job is a conflict', async () => {
    // Two slow jobs fill the test queue (concurrency 2), so a third waits.
    const slow = await Promise.all([1, 2].map(() => jobs.enqueue(STEPS_JOB, { steps: 40, stepMs: 50 }, { owner })));
    await waitFor(
      async () => (await Promise.all(slow.map((j) => row(j.id)))).every((j) => j.state === 'In Progress'),
      10_000,
      'running',
    );
    const waiting = await jobs.enqueue(STEPS_JOB, { steps: 1 }, { owner });
    const canceled = await jobs.cancel(await abilityOf(t, owner), waiting.id);
    expect(canceled.state).toBe('Canceled');
    expect(abandonedJobs.get(waiting.id)).toMatchObject({ state: 'Canceled', error: null });

    const requested = await jobs.cancel(await abilityOf(t, owner), slow[0].id);
    expect(requested.state).toBe('In Progress');
    const ended = await settled(slow[0].id);
    expect(ended.state).toBe('Canceled');
    expect(ended.completedSteps).toBeLessThan(40);

    await jobs.cancel(await abilityOf(t, staff), slow[1].id);
    expect((await settled(slow[1].id)).state).toBe('Canceled');
    // A run that saw the cancel ended the work itself.
    expect(abandonedJobs.has(slow[0].id) || abandonedJobs.has(slow[1].id)).toBe(false);
    await expect(jobs.cancel(await abilityOf(t, owner), waiting.id)).rejects.toMatchObject({
      code: 'invalid_state',
      status: 409,
    });
    // The canceled waiting job never ran.
    expect((await row(waiting.id)).attempts).toBe(0);
  });

  it("hides another principal's job as not found; staff and support see it, support cannot cancel it", async () => {
    const { id } = await jobs.enqueue(STEPS_JOB, { steps: 1, result: 'secret' }, { owner });
    await settled(id);
    for (const attempt of [
      async () => jobs.get(await abilityOf(t, stranger), id),
      async () => jobs.cancel(await abilityOf(t, stranger), id),
      async () => jobs.openArtifact(await abilityOf(t, stranger), id, 'result'),
    ]) {
      const error = await attempt().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CommonError);
      expect(error).toMatchObject({ code: 'not_found', status: 404 });
    }
    // Same type and id are both needed: a service account with the user's id owns nothing.
    await expect(jobs.get(await abilityOf(t, { ...service, id: owner.id }), id)).rejects.toMatchObject({
      code: 'not_found',
    });
    expect((await jobs.get(await abilityOf(t, staff), id)).job_id).toBe(id);
    expect((await jobs.get(await abilityOf(t, support), id)).job_id).toBe(id);
    const waiting = await jobs.enqueue(STEPS_JOB, { steps: 1 }, { owner });
    await expect(jobs.cancel(await abilityOf(t, support), waiting.id)).rejects.toMatchObject({
      code: 'forbidden',
      status: 403,
    });
  });

  it("lists only the caller's jobs (staff: all), filtered by state and name, newest first, paginated", async () => {
    const mine = principal();
    const theirs = principal({ type: 'service_account', tokenKind: 'service' });
    const listed = async (who: Principal, filter: JobListFilter) => {
      const [results, count] = await jobs.list(await abilityOf(t, who), filter);
      return { count, results };
    };
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await jobs.enqueue(STEPS_JOB, { steps: 1 }, { owner: mine })).id);
    const noop = await jobs.enqueue(NOOP_JOB, {}, { owner: mine });
    await jobs.enqueue(STEPS_JOB, { steps: 1 }, { owner: theirs });
    await Promise.all([...ids, noop.id].map((id) => settled(id)));

    const page1 = await listed(mine, { page_size: 4 });
    expect(page1.count).toBe(6);
    expect(page1.results.map((j) => j.job_id)).toEqual([noop.id, ...ids.slice(1).reverse()].slice(0, 4));
    const page2 = await listed(mine, { page_size: 4, page: 2 });
    expect(page2.results.map((j) => j.job_id)).toEqual([ids[1], ids[0]]);
    expect((await listed(mine, { name: 'test.noop' })).results.map((j) => j.job_id)).toEqual([noop.id]);
    expect((await listed(mine, { state: 'Failed' })).count).toBe(0);
    expect((await listed(theirs, {})).count).toBe(1);
    expect((await listed(staff, { page_size: 500 })).count).toBeGreaterThanOrEqual(7);
  });

  if (adapter === 'bull') {
    it('keeps its queues in Redis under REDIS_KEY_PREFIX', async () => {
      const { id } = await jobs.enqueue(STEPS_JOB, { steps: 1 }, { owner });
      expect((await settled(id)).state).toBe('Succeeded');
      const redis = new Redis(TEST_REDIS_URL);
      try {
        const [, keys] = await redis.scan(
          '0',
          'MATCH',
          `${t.settings.REDIS_KEY_PREFIX}:bull:${TEST_QUEUE}:*`,
          'COUNT',
          10_000,
        );
        expect(keys.length).toBeGreaterThan(0);
      } finally {
        redis.disconnect();
      }
    });
  }

  it('dispatches again a job whose dispatch was lost', async () => {
    const [{ id }] = await db.query(
      `INSERT INTO jobs (name, owner_type, owner_id, payload, max_attempts, available_at)
       VALUES ('test.steps', 'user', $1, '{"steps":1}', 3, now() - interval '1 minute') RETURNING id`,
      [owner.id],
    );
    await new Promise((r) => setTimeout(r, 300));
    expect((await row(id)).state).toBe('Pending');
    const swept = await t.app.get(JobsSweeper).sweep();
    expect(swept.redispatched).toBeGreaterThanOrEqual(1);
    expect((await settled(id)).state).toBe('Succeeded');
  });

  it('takes back a running job whose worker stopped heartbeating: retried while attempts remain, else Failed', async () => {
    const [{ id: retried }] = await db.query(
      `INSERT INTO jobs (name, owner_type, owner_id, payload, state, attempts, max_attempts, started_at, heartbeat_at)
       VALUES ('test.steps', 'user', $1, '{"steps":1}', 'In Progress', 1, 3, now(), now() - interval '1 minute') RETURNING id`,
      [owner.id],
    );
    const [{ id: exhausted }] = await db.query(
      `INSERT INTO jobs (name, owner_type, owner_id, payload, state, attempts, max_attempts, started_at, heartbeat_at)
       VALUES ('test.steps', 'user', $1, '{"steps":1}', 'In Progress', 3, 3, now(), now() - interval '1 minute') RETURNING id`,
      [owner.id],
    );
    const before = Date.now();
    const swept = await t.app.get(JobsSweeper).sweep();
    expect(swept.recovered).toMatchObject({ Retrying: 1, Failed: 1 });
    // The retry waits out the backoff (200 ms after attempt 1 here), as after a thrown error.
    expect((await row(retried)).availableAt.getTime()).toBeGreaterThanOrEqual(before + 150);
    expect(await settled(retried)).toMatchObject({ state: 'Succeeded', attempts: 2 });
    const failed = await row(exhausted);
    expect(failed.state).toBe('Failed');
    expect(failed.error).toMatch(/worker running attempt 3 stopped responding/);
    expect(abandonedJobs.get(exhausted)).toEqual({ state: 'Failed', error: failed.error, payload: { steps: 1 } });
    expect(abandonedJobs.has(retried)).toBe(false);
  });

  it('keeps the heartbeat of a long job fresh, so the sweeper leaves it alone', async () => {
    const { id } = await jobs.enqueue(STEPS_JOB, { steps: 1, stepMs: 2500 }, { owner });
    await waitFor(async () => (await row(id)).state === 'In Progress', 10_000, 'running');
    await new Promise((r) => setTimeout(r, 1800));
    const swept = await t.app.get(JobsSweeper).sweep();
    expect(swept.recovered).toEqual({});
    expect(await settled(id)).toMatchObject({ state: 'Succeeded', attempts: 1 });
  });

  it('purges jobs past the retention with their stored artifacts, keeping recent and running ones', async () => {
    const { id: old } = await jobs.enqueue(
      STEPS_JOB,
      { steps: 1, result: 'r', file: { name: 'big.txt', bytes: 10_000 } },
      { owner },
    );
    const { id: recent } = await jobs.enqueue(STEPS_JOB, { steps: 1 }, { owner });
    await Promise.all([settled(old), settled(recent)]);
    await db.query(
      `UPDATE jobs SET created_at = now() - interval '40 days', finished_at = now() - interval '31 days' WHERE id = $1`,
      [old],
    );
    const [{ id: running }] = await db.query(
      `INSERT INTO jobs (name, owner_type, owner_id, payload, state, attempts, created_at, heartbeat_at)
       VALUES ('test.steps', 'user', $1, '{"steps":1}', 'In Progress', 1, now() - interval '40 days', now()) RETURNING id`,
      [owner.id],
    );
    // A job that ran and has no stored artifact row, but a temporary file a killed run left behind.
    const { id: leftover } = await jobs.enqueue(STEPS_JOB, { steps: 1, result: 'inline only' }, { owner });
    await settled(leftover);
    await db.query(
      `UPDATE jobs SET created_at = now() - interval '40 days', finished_at = now() - interval '31 days' WHERE id = $1`,
      [leftover],
    );
    const leftoverFile = join(t.settings.JOB_ARTIFACT_DIR!, 'jobs', leftover, '1', 'export.csv.0a1b2c.partial');
    mkdirSync(dirname(leftoverFile), { recursive: true });
    writeFileSync(leftoverFile, 'half an export');
    const folder = join(t.settings.JOB_ARTIFACT_DIR!, 'jobs', old);
    expect(existsSync(folder)).toBe(true);
    expect(await t.app.get(JobsRetention).purgeExpired()).toBeGreaterThanOrEqual(2);
    expect(await db.getRepository(Job).findOneBy({ id: old })).toBeNull();
    expect(await db.query(`SELECT 1 FROM job_artifacts WHERE job_id = $1`, [old])).toEqual([]);
    expect(existsSync(folder)).toBe(false);
    expect(await db.getRepository(Job).findOneBy({ id: leftover })).toBeNull();
    expect(existsSync(join(t.settings.JOB_ARTIFACT_DIR!, 'jobs', leftover))).toBe(false);
    // The purge runs on its own every hour.
    const cron = t.app.get(SchedulerRegistry).getCronJob('jobs-retention');
    expect(cron.isActive).toBe(true);
    expect(cron.cronTime.source).toBe(CronExpression.EVERY_HOUR);
    expect(await db.getRepository(Job).findOneBy({ id: recent })).not.toBeNull();
    expect(await db.getRepository(Job).findOneBy({ id: running })).not.toBeNull();
    await db.query(`DELETE FROM jobs WHERE id = $1`, [running]);
  });

  it('refuses to enqueue a job nobody can run', async () => {
    await expect(jobs.enqueue('no.such.job', {}, { owner: TEST_OWNER })).rejects.toMatchObject({ code: 'unknown_job' });
  });
});

describe('without prepared statements (DATABASE_PREPARED_STATEMENTS=false)', () => {
  it('still authenticates requests and runs jobs to their outcome', async () => {
    const t = await createTestApp({
      imports: [JobsTestModule],
      settings: jobSettings('in-process', { JOB_CONCURRENCY: '2', DATABASE_PREPARED_STATEMENTS: 'false' }),
    });
    try {
      const user = await createUser(t);
      await t.http.get('/api/v1/auth/me').set(user.auth).expect(200);
      const jobs = t.app.get(JobsService);
      const { id } = await jobs.enqueue(STEPS_JOB, { steps: 2, result: 'ok' }, { owner: TEST_OWNER });
      const job = await waitFor(
        async () => {
          const j = await t.app.get<DataSource>(getDataSourceToken()).getRepository(Job).findOneByOrFail({ id });
          return j.state === 'Succeeded' && j;
        },
        15_000,
        `job ${id} to succeed`,
      );
      expect(job).toMatchObject({ state: 'Succeeded', completedSteps: 2, attempts: 1 });
    } finally {
      await t.close();
    }
  });
});
