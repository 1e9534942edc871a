import { ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createOrganization } from '../factories/accounts';
import { createCourse, ds, orgScope, userWithRole } from '../utils/course-accounts';
import { jobSettings, waitFor } from '../utils/jobs-helpers';
import { JobsTestModule } from '../utils/jobs-test.module';
import { createTestApp, TestApp } from '../utils/test-app';
import { WebhookReceiver } from '../utils/webhook-receiver';

jest.setTimeout(120_000);

const ROOT = resolve(__dirname, '..', '..');

interface WorkerProcess {
  child: ChildProcess;
  exited: Promise<number | null>;
}

async function spawnWorker(env: Record<string, string>): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'test/utils/jobs-worker.main.ts'], {
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

describe('Webhook delivery survives a killed worker (Bull)', () => {
  let t: TestApp;
  let receiver: WebhookReceiver;
  let settings: ReturnType<typeof jobSettings>;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    receiver = await new WebhookReceiver().start();
    settings = jobSettings('bull', {
      JOB_WORKERS_ENABLED: 'false',
      JOB_SWEEP_INTERVAL_MS: '300',
      KEY_ENCRYPTION_SECRET: 'webhooks-reliability-test-key-encryption-secret',
      WEBHOOK_ALLOW_PRIVATE_ADDRESSES: 'true',
      WEBHOOK_TIMEOUT_MS: '60000',
      WEBHOOK_RETRY_BACKOFF_MS: '50',
      OUTBOX_RELAY_INTERVAL_MS: '200',
    });
    t = await createTestApp({ imports: [JobsTestModule], settings });
  });
  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGTERM');
    await Promise.all(workers.map((w) => w.exited));
    await t?.close();
    await receiver.close();
  });

  const workerEnv = () => ({
    DATABASE_URL: t.database.url,
    DATA_DIR: mkdtempSync(join(tmpdir(), 'ca-worker-')),
    ...Object.fromEntries(Object.entries(settings).filter(([k]) => k !== 'JOB_WORKERS_ENABLED')),
  });

  it('delivers after the sweep what a SIGKILLed worker was sending: at least once, never lost', async () => {
    const org = await createOrganization(t);
    const project = await createCourse(t, org.id);
    const admin = await userWithRole(t, 'organization_admin', orgScope(org));
    const path = `/hooks/${randomUUID()}`;
    const sub = await t.http
      .post('/api/v1/webhooks')
      .set(admin.auth)
      .send({ organization: org.id, url: `${receiver.origin}${path}`, event_types: ['course_account.created'] })
      .expect(201);
    receiver.secrets.set(path, sub.body.secret);
    // The first attempt never gets an answer: the worker sending it is killed meanwhile.
    receiver.behave = (p, n) => (p === path && n === 1 ? 'hang' : { status: 200, body: 'ok' });

    const first = await spawnWorker(workerEnv());
    workers.push(first);
    await t.http
      .post('/api/v1/course-accounts')
      .set(admin.auth)
      .send({ project: project.id, email: `${randomUUID()}@example.edu` })
      .expect(201);
    await waitFor(async () => receiver.on(path).length === 1, 30_000, 'the first attempt to arrive');
    first.child.kill('SIGKILL');
    expect(await first.exited).toBeNull();

    workers.push(await spawnWorker(workerEnv()));
    const [delivery] = await waitFor(
      async () => {
        const res = await t.http.get(`/api/v1/webhooks/${sub.body.id}/deliveries`).set(admin.auth).expect(200);
        return res.body.results[0]?.state === 'delivered' && res.body.results;
      },
      40_000,
      'the delivery after the sweep',
    );
    const got = receiver.on(path);
    expect(got).toHaveLength(2);
    expect(got.map((r) => (r.verified as { type: string } | null)?.type)).toEqual([
      'course_account.created',
      'course_account.created',
    ]);
    expect(got[0].headers['webhook-id']).toBe(got[1].headers['webhook-id']);
    expect(delivery.attempts.at(-1)).toMatchObject({ status: 200 });
    const [job] = await ds(t).query(
      `SELECT state, attempts FROM jobs WHERE name = 'webhooks.deliver' AND payload->>'deliveryId' = $1`,
      [delivery.id],
    );
    expect(job).toEqual({ state: 'Succeeded', attempts: 2 });
  });
});
