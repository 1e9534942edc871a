import { getQueueToken } from '@nestjs/bull';
import { getDataSourceToken } from '@nestjs/typeorm';
import type Bull from 'bull';
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DataSource } from 'typeorm';
import { Job } from '../../src/jobs/job.entity';
import { JobsService } from '../../src/jobs/jobs.service';
import { abilityOf, jobSettings, waitFor } from '../utils/jobs-helpers';
import { fileContent, JobsTestModule, STEPS_JOB, TEST_OWNER, TEST_QUEUE } from '../utils/jobs-test.module';
import { TcpProxy } from '../utils/tcp-proxy';
import { createTestApp, TestApp } from '../utils/test-app';
import { TEST_REDIS_URL } from '../utils/test-databases';

jest.setTimeout(120_000);

const ROOT = resolve(__dirname, '..', '..');

interface WorkerProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Starts a worker process with the given settings; resolves once it has started. */
async function spawnWorker(entry: string, env: Record<string, string>): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', entry], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', LOG_LEVEL: 'warn', ENV_FILE: '/nonexistent/.env', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const worker = { child, output: () => out, exited };
  await Promise.race([
    waitFor(async () => out.includes('worker started'), 60_000, 'the worker to start'),
    exited.then((code) => Promise.reject(new Error(`worker exited with ${code}: ${out}`))),
  ]);
  return worker;
}

describe('Jobs reliability (Bull)', () => {
  describe('with separate worker processes', () => {
    let t: TestApp;
    let settings: ReturnType<typeof jobSettings>;
    const workers: WorkerProcess[] = [];

    beforeAll(async () => {
      // The API process runs no workers here: every run happens in a worker process.
      settings = jobSettings('bull', {
        JOB_WORKERS_ENABLED: 'false',
        JOB_SWEEP_INTERVAL_MS: '300',
        // Workers and API share the signing keys, so they share the secret that encrypts them.
        KEY_ENCRYPTION_SECRET: 'jobs-reliability-test-key-encryption-secret',
      });
      t = await createTestApp({ imports: [JobsTestModule], settings });
    });
    // Each test starts the workers it needs; none outlives its test to take another test's jobs.
    afterEach(async () => {
      const running = workers.splice(0).filter((w) => w.child.exitCode === null && w.child.signalCode === null);
      for (const w of running) w.child.kill('SIGTERM');
      await Promise.all(running.map((w) => w.exited));
    });
    afterAll(() => t?.close());

    const workerEnv = () => ({
      DATABASE_URL: t.database.url,
      DATA_DIR: mkdtempSync(join(tmpdir(), 'ca-worker-')),
      ...Object.fromEntries(Object.entries(settings).filter(([k]) => k !== 'JOB_WORKERS_ENABLED')),
    });

    it('retries the job of a SIGKILLed worker, which then finishes once, with one artifact and nothing stuck', async () => {
      const first = await spawnWorker('test/utils/jobs-worker.main.ts', workerEnv());
      workers.push(first);
      const jobs = t.app.get(JobsService);
      const db = t.app.get<DataSource>(getDataSourceToken());
      const bytes = 300_000;
      const { id } = await jobs.enqueue(
        STEPS_JOB,
        { steps: 12, stepMs: 150, file: { name: 'out.txt', bytes, atStep: 2 } },
        { owner: TEST_OWNER },
      );
      await waitFor(
        async () => {
          const job = await db.getRepository(Job).findOneByOrFail({ id });
          return job.state === 'In Progress' && job.completedSteps >= 4;
        },
        30_000,
        'the first run to write its artifact',
      );
      first.child.kill('SIGKILL');
      expect(await first.exited).toBeNull();
      expect((await db.getRepository(Job).findOneByOrFail({ id })).state).toBe('In Progress');

      workers.push(await spawnWorker('test/utils/jobs-worker.main.ts', workerEnv()));
      const done = await waitFor(
        async () => {
          const job = await db.getRepository(Job).findOneByOrFail({ id });
          return job.state !== 'In Progress' && job.state !== 'Retrying' && job.state !== 'Pending' && job;
        },
        40_000,
        'the retry to finish',
      );
      expect(done).toMatchObject({ state: 'Succeeded', attempts: 2, completedSteps: 12 });
      // The retry's file, under its own lease; the killed run's file of the same name is gone.
      const artifacts = await db.query(`SELECT name, size, key FROM job_artifacts WHERE job_id = $1`, [id]);
      expect(artifacts).toEqual([{ name: 'out.txt', size: String(bytes), key: `jobs/${id}/2/out.txt` }]);
      const stored = readFileSync(join(settings.JOB_ARTIFACT_DIR, artifacts[0].key));
      const expected = Buffer.concat(await fileContent(bytes).toArray());
      expect(stored.equals(expected)).toBe(true);
      expect(existsSync(join(settings.JOB_ARTIFACT_DIR, `jobs/${id}/1/out.txt`))).toBe(false);
      expect(await db.query(`SELECT count(*)::int AS n FROM jobs WHERE state = 'In Progress'`)).toEqual([{ n: 0 }]);
    });

    it('hands a running job back on SIGTERM with its attempt returned, and exits 0; another worker finishes it', async () => {
      const first = await spawnWorker('test/utils/jobs-worker.main.ts', workerEnv());
      workers.push(first);
      const jobs = t.app.get(JobsService);
      const db = t.app.get<DataSource>(getDataSourceToken());
      const { id } = await jobs.enqueue(
        STEPS_JOB,
        { steps: 30, stepMs: 100, result: 'finished elsewhere' },
        { owner: TEST_OWNER },
      );
      await waitFor(
        async () => {
          const job = await db.getRepository(Job).findOneByOrFail({ id });
          return job.state === 'In Progress' && job.completedSteps >= 2;
        },
        30_000,
        'the job to start',
      );
      first.child.kill('SIGTERM');
      expect(await first.exited).toBe(0);
      // Interrupted by a shutdown, not failed: back to Pending, no attempt used, no error.
      expect(await db.getRepository(Job).findOneByOrFail({ id })).toMatchObject({
        state: 'Pending',
        attempts: 0,
        error: null,
        lease: 1,
      });

      workers.push(await spawnWorker('test/utils/jobs-worker.main.ts', workerEnv()));
      const done = await waitFor(
        async () => {
          const job = await db.getRepository(Job).findOneByOrFail({ id });
          return job.state === 'Succeeded' && job;
        },
        40_000,
        'another worker to finish the job',
      );
      expect(done).toMatchObject({ attempts: 1, lease: 2, completedSteps: 30 });
    });
  });

  describe('with workers off in the API', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({
        imports: [JobsTestModule],
        settings: jobSettings('bull', { JOB_WORKERS_ENABLED: 'false' }),
      });
    });
    afterAll(() => t?.close());

    const queue = () => t.app.get<Bull.Queue>(getQueueToken(TEST_QUEUE), { strict: false });
    const delivery = async (id: string) => (await queue().getJob(`${id}-0`))?.getState();

    it('leaves every job on the queue for the worker processes', async () => {
      const { id } = await t.app.get(JobsService).enqueue(STEPS_JOB, { steps: 1 }, { owner: TEST_OWNER });
      await waitFor(async () => (await delivery(id)) === 'waiting', 5000, 'the delivery to be queued');
      await new Promise((r) => setTimeout(r, 1500));
      expect(await delivery(id)).toBe('waiting');
      expect((await t.app.get<DataSource>(getDataSourceToken()).getRepository(Job).findOneByOrFail({ id })).state).toBe(
        'Pending',
      );
    });

    it('dispatches what a released savepoint enqueued once the transaction commits, and nothing a rolled-back savepoint did', async () => {
      const jobs = t.app.get(JobsService);
      const db = t.app.get<DataSource>(getDataSourceToken());
      let kept!: { id: string };
      let dropped!: { id: string };
      await db.transaction(async (tx) => {
        kept = await tx.transaction((inner) => jobs.enqueue(STEPS_JOB, { steps: 1 }, { owner: TEST_OWNER }, inner));
        await tx
          .transaction(async (inner) => {
            dropped = await jobs.enqueue(STEPS_JOB, { steps: 1 }, { owner: TEST_OWNER }, inner);
            throw new Error('roll back this savepoint');
          })
          .catch(() => undefined);
        await new Promise((r) => setTimeout(r, 200));
        // Nothing leaves before the commit.
        expect(await delivery(kept.id)).toBeUndefined();
      });
      await waitFor(async () => (await delivery(kept.id)) === 'waiting', 5000, 'the kept job to be dispatched');
      expect(await db.getRepository(Job).findOneBy({ id: dropped.id })).toBeNull();
      expect(await delivery(dropped.id)).toBeUndefined();
    });
  });

  describe('npm run worker', () => {
    it('refuses to start without REDIS_URL, saying why', async () => {
      const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/worker.ts'], {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH ?? '',
          DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test',
          ENV_FILE: '/nonexistent/.env',
        },
      });
      let err = '';
      child.stderr.on('data', (b: Buffer) => (err += b.toString()));
      const code = await new Promise((r) => child.once('exit', r));
      expect(code).toBe(1);
      expect(err).toContain('The worker needs REDIS_URL');
    });
  });

  /**
   * An app whose Redis connection goes through a TCP proxy the test cuts and restores; with
   * `downAtStart` the proxy is already cut when the app starts (Redis comes up after the API).
   */
  function appBehindRedisProxy(downAtStart: boolean) {
    const proxy = TcpProxy.forUrl(TEST_REDIS_URL);
    let t: TestApp;
    beforeAll(async () => {
      await proxy.start();
      if (downAtStart) await proxy.cut();
      t = await createTestApp({
        imports: [JobsTestModule],
        settings: jobSettings('bull', { REDIS_URL: proxy.rewrite(TEST_REDIS_URL), JOB_SWEEP_INTERVAL_MS: '300' }),
      });
    });
    afterAll(async () => {
      await t?.close();
      await proxy.close();
    });
    return {
      proxy,
      get t() {
        return t;
      },
      state: async (id: string) =>
        (await t.app.get<DataSource>(getDataSourceToken()).getRepository(Job).findOneByOrFail({ id })).state,
    };
  }

  describe('with Redis unreachable at enqueue', () => {
    const env = appBehindRedisProxy(false);

    it('answers the request, keeps the job Pending, and runs it once Redis is back', async () => {
      const { t, proxy, state } = env;
      const warm = await t.http.post('/api/v1/test-jobs').send({ steps: 1 }).expect(201);
      await waitFor(async () => (await state(warm.body.id)) === 'Succeeded', 15_000, 'the warm-up job');

      await proxy.cut();
      const started = Date.now();
      const res = await t.http.post('/api/v1/test-jobs').send({ steps: 1, result: 'ran after the outage' }).expect(201);
      expect(Date.now() - started).toBeLessThan(3000);
      await new Promise((r) => setTimeout(r, 1500));
      expect(await state(res.body.id)).toBe('Pending');

      await proxy.restore();
      await waitFor(async () => (await state(res.body.id)) === 'Succeeded', 30_000, 'the job to run after the outage');
      const job = await t.app.get(JobsService).get(
        await abilityOf(t, {
          ...TEST_OWNER,
          name: 'owner',
          tokenKind: 'user',
          scopes: [],
          isStaff: false,
          isSupport: false,
        }),
        res.body.id,
      );
      expect(job).toMatchObject({ attempts: 1, text: 'ran after the outage' });
    });
  });

  describe('with Redis unreachable at start', () => {
    const env = appBehindRedisProxy(true);

    it('starts, says it is not ready, takes jobs, and runs them once Redis is up', async () => {
      const { t, proxy, state } = env;
      await t.http.get('/health/live').expect(200);
      const ready = await t.http.get('/health/ready').expect(503);
      expect(JSON.stringify(ready.body)).toContain('redis');
      const res = await t.http
        .post('/api/v1/test-jobs')
        .send({ steps: 1, result: 'ran once Redis was up' })
        .expect(201);
      expect(await state(res.body.id)).toBe('Pending');

      await proxy.restore();
      await waitFor(async () => (await state(res.body.id)) === 'Succeeded', 30_000, 'the job to run once Redis is up');
      await t.http.get('/health/ready').expect(200);
    });
  });
});
