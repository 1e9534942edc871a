import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { courseWithManager, ds, jobDone } from '../utils/course-accounts';
import { FakeCourseBackend, startFakeCourseBackend } from '../utils/fake-course-backend';
import { jobSettings, waitFor } from '../utils/jobs-helpers';
import { createTestApp, TestApp } from '../utils/test-app';

const ROOT = resolve(__dirname, '..', '..');

interface WorkerProcess {
  child: ChildProcess;
  exited: Promise<number | null>;
}

/** `npm run worker` as a child process; resolves once it has started. */
async function startWorker(env: Record<string, string>): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/worker.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', LOG_LEVEL: 'warn', ENV_FILE: '/nonexistent/.env', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  await Promise.race([
    waitFor(async () => out.includes('worker started'), 60_000, 'the worker to start'),
    exited.then((code) => Promise.reject(new Error(`worker exited with ${code}: ${out}`))),
  ]);
  return { child, exited };
}

describe('Course accounts: a worker killed during a bulk creation', () => {
  let t: TestApp;
  let fake: FakeCourseBackend;
  let settings: Record<string, string>;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    fake = await startFakeCourseBackend();
    settings = {
      ...jobSettings('bull', {
        JOB_WORKERS_ENABLED: 'false',
        JOB_SWEEP_INTERVAL_MS: '300',
        KEY_ENCRYPTION_SECRET: 'course-accounts-reliability-key-secret',
      }),
      ...fake.settings({ COURSE_ACCOUNTS_CONCURRENCY: '4' }),
    };
    // The API runs no workers: the bulk job runs in the worker processes only.
    t = await createTestApp({ settings });
  }, 60_000);
  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    await t?.close();
    await fake?.close();
  });

  const workerEnv = () => ({
    DATABASE_URL: t.database.url,
    DATA_DIR: mkdtempSync(join(tmpdir(), 'ca-worker-')),
    ...Object.fromEntries(Object.entries(settings).filter(([k]) => k !== 'JOB_WORKERS_ENABLED')),
  });

  const states = async (projectId: string): Promise<Record<string, number>> => {
    const rows: { state: string; n: number }[] = await ds(t).query(
      'SELECT state, count(*)::int AS n FROM course_accounts WHERE project_id = $1 GROUP BY state',
      [projectId],
    );
    return Object.fromEntries(rows.map((r) => [r.state, r.n]));
  };

  it('leaves every account OK or ERRED after recovery, none PENDING and none created twice upstream', async () => {
    const first = await startWorker(workerEnv());
    workers.push(first);
    const { project, manager } = await courseWithManager(t);
    fake.fail = { delayMs: 40 };
    const rows = Array.from({ length: 200 }, (_, i) => ({ email: `r${i}@example.edu` }));
    const res = await t.http
      .post('/api/v1/course-accounts/bulk')
      .set(manager.auth)
      .send({ project: project.id, course_accounts: rows })
      .expect(202);

    await waitFor(
      async () => ((await states(project.id)).OK ?? 0) >= 40,
      60_000,
      'the first worker to create some accounts',
    );
    first.child.kill('SIGKILL');
    expect(await first.exited).toBeNull();
    const atKill = await states(project.id);
    expect(atKill.PENDING).toBeGreaterThan(0);

    workers.push(await startWorker(workerEnv()));
    const job = await jobDone(t, res.body.job_id, 90_000);
    expect(job).toMatchObject({ state: 'Succeeded', attempts: 2, completedSteps: 200 });

    const after = await states(project.id);
    expect(after.PENDING ?? 0).toBe(0);
    expect((after.OK ?? 0) + (after.ERRED ?? 0)).toBe(200);
    expect(after.OK).toBe(200);
    // Each account was made upstream exactly once, even those whose answer the killed worker never read.
    expect(fake.counts.creations).toBe(200);
    expect(fake.accounts.size).toBe(200);
    expect([...fake.creationsByKey().values()].every((n) => n === 1)).toBe(true);
    const usernames: { username: string }[] = await ds(t).query(
      'SELECT username FROM course_accounts WHERE project_id = $1',
      [project.id],
    );
    expect(new Set(usernames.map((u) => u.username)).size).toBe(200);
    expect(usernames.every((u) => fake.accounts.has(u.username))).toBe(true);
    // The second run re-sent the creations the first left unanswered; they found their accounts.
    expect(fake.counts.createRequests).toBeGreaterThanOrEqual(200);
  }, 180_000);
});
