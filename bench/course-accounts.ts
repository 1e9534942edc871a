/**
 * Bulk creation of course accounts, against the bare job rate measured in the same run:
 *
 *   - bare job rate: N no-op jobs enqueued and completed through JobsService (the durable job
 *     machinery with nothing to do), jobs per second;
 *   - mock backend: one bulk creation of N accounts (request: validation, N users and PENDING rows,
 *     the job; then the job creating each upstream with its guarded move and audit event) until all
 *     are OK, accounts per second — the goal is at least 50 % of the bare job rate;
 *   - HTTP backend: the same against the local fake temporary-accounts API answering every call
 *     after 20 ms; bounded concurrency must keep it well under N × 20 ms;
 *   - HTTP backend with COURSE_ACCOUNTS_BATCH_SIZE=50: the same through array creations.
 *
 *   npm run bench:course-accounts
 *
 * Needs PostgreSQL (TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test; a scratch
 * database is created and dropped). Jobs run in process. BENCH_ACCOUNTS sets N (default 1000, at
 * most 1000: one bulk request), BENCH_HTTP_DELAY_MS the fake's delay (default 20).
 */
import 'reflect-metadata';
import { INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { getDataSourceToken } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { Organization } from '../src/accounts/organizations/organization.entity';
import { Project } from '../src/accounts/projects/project.entity';
import { AppModule } from '../src/app.module';
import type { Principal } from '../src/common/auth/principal';
import { loadSettings } from '../src/config/load-settings';
import { SettingName } from '../src/config/settings.schema';
import { CourseAccountCreation } from '../src/course-accounts/course-account.creation';
import { dataSourceOptions } from '../src/database/data-source-options';
import { JobsService } from '../src/jobs/jobs.service';
import { defineJob } from '../src/jobs/processors/job-definition';
import { JobProcessor, ProcessesJob } from '../src/jobs/processors/job-processor';
import { AbilityFactory } from '../src/permissions/ability.factory';
import { FakeCourseBackend, startFakeCourseBackend } from '../test/utils/fake-course-backend';
import { databaseUrl, TEST_DATABASE_URL, withAdminClient } from '../test/utils/test-databases';

const ACCOUNTS = Math.min(1000, Math.max(10, Number(process.env.BENCH_ACCOUNTS ?? 1000) || 1000));
const HTTP_DELAY_MS = Math.max(0, Number(process.env.BENCH_HTTP_DELAY_MS ?? 20) || 20);
const PRODUCERS = 16;
/** COURSE_ACCOUNTS_BATCH_SIZE of the second HTTP run (the first sends one account per call). */
const BATCH = 50;

/** A no-op job on the course-accounts queue: the same queue, runner and concurrency as the bulk job. */
const BENCH_NOOP = defineJob<Record<string, never>>('bench.course-accounts-noop', { queue: 'course-accounts' });

@ProcessesJob(BENCH_NOOP)
class BenchNoopProcessor implements JobProcessor<Record<string, never>> {
  async process(): Promise<void> {}
}

@Module({ providers: [BenchNoopProcessor] })
class BenchModule {}

const STAFF: Principal = {
  type: 'user',
  id: randomUUID(),
  name: 'bench',
  tokenKind: 'user',
  scopes: [],
  isStaff: true,
  isSupport: false,
};

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const seconds = (from: bigint) => Number(process.hrtime.bigint() - from) / 1e9;

async function boot(
  url: string,
  extra: Partial<Record<SettingName, string>>,
): Promise<{ app: INestApplicationContext; artifacts: string }> {
  const artifacts = mkdtempSync(join(tmpdir(), 'ca-bench-'));
  const settings = await loadSettings({
    env: {},
    envFile: '/nonexistent/.env',
    overrides: {
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      MIGRATIONS_RUN: 'false',
      DATABASE_URL: url,
      JOB_ARTIFACT_DIR: artifacts,
      JOB_SWEEP_INTERVAL_MS: '0',
      ...extra,
    },
  });
  const app = await NestFactory.createApplicationContext(
    AppModule.forRoot({ settings, databaseUrl: url, extraImports: [BenchModule] }),
    {
      logger: ['error', 'warn'],
    },
  );
  await app.init();
  return { app, artifacts };
}

async function courseProject(ds: DataSource): Promise<Project> {
  const org = await ds.getRepository(Organization).save({ key: `bench-${randomUUID().slice(0, 8)}`, name: 'Bench' });
  const end = new Date(Date.now() + 60 * 86_400_000).toISOString().slice(0, 10);
  return ds.getRepository(Project).save({
    organizationId: org.id,
    key: `course-${randomUUID().slice(0, 8)}`,
    name: 'Bench course',
    kind: 'course',
    startDate: null,
    endDate: end,
  });
}

/** No-op jobs through JobsService until all have succeeded: jobs per second. */
async function bareJobRate(app: INestApplicationContext): Promise<number> {
  const jobs = app.get(JobsService);
  const ds = app.get<DataSource>(getDataSourceToken());
  const started = process.hrtime.bigint();
  let next = 0;
  await Promise.all(
    Array.from({ length: PRODUCERS }, async () => {
      while (next++ < ACCOUNTS) await jobs.enqueue(BENCH_NOOP, {}, { owner: STAFF });
    }),
  );
  await until(async () => {
    const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM jobs WHERE name = $1 AND state = 'Succeeded'`, [
      BENCH_NOOP.name,
    ]);
    return n >= ACCOUNTS;
  }, 'the no-op jobs');
  return ACCOUNTS / seconds(started);
}

interface BulkRun {
  requestS: number;
  totalS: number;
  perSecond: number;
  ok: number;
}

/** One bulk creation of ACCOUNTS rows until none is PENDING. */
async function bulkRun(app: INestApplicationContext): Promise<BulkRun> {
  const ds = app.get<DataSource>(getDataSourceToken());
  const project = await courseProject(ds);
  const ability = await app.get(AbilityFactory).for(STAFF);
  const rows = Array.from({ length: ACCOUNTS }, (_, i) => ({
    email: `student${i}@bench.example.edu`,
    description: `Student ${i}`,
  }));
  const started = process.hrtime.bigint();
  const result = await app
    .get(CourseAccountCreation)
    .bulkCreate(STAFF, ability, { project: project.id, course_accounts: rows });
  const requestS = seconds(started);
  let ok = 0;
  await until(async () => {
    const [counts] = await ds.query(
      `SELECT count(*) FILTER (WHERE state = 'PENDING')::int AS pending, count(*) FILTER (WHERE state = 'OK')::int AS ok FROM course_accounts WHERE project_id = $1`,
      [project.id],
    );
    ok = counts.ok;
    return counts.pending === 0;
  }, 'the bulk creation');
  const totalS = seconds(started);
  if (result.accounts.length !== ACCOUNTS)
    throw new Error(`expected ${ACCOUNTS} accounts, got ${result.accounts.length}`);
  return { requestS, totalS, perSecond: ACCOUNTS / totalS, ok };
}

function table(rows: [string, string, string][]): void {
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) console.log(`  ${r.map((c, i) => c.padEnd(widths[i])).join('  ')}`);
}

async function main(): Promise<void> {
  const name = `ca_bench_${Math.floor(Date.now() / 1000)}_${randomUUID().slice(0, 6)}`;
  await withAdminClient((c) => c.query(`CREATE DATABASE "${name}"`));
  const url = databaseUrl(name);
  let fake: FakeCourseBackend | undefined;
  const cleanups: (() => Promise<void> | void)[] = [];
  try {
    const migrate = new DataSource(dataSourceOptions({ url, poolSize: 1 }));
    await migrate.initialize();
    await migrate.runMigrations({ transaction: 'each' });
    await migrate.destroy();

    console.log(
      `Course accounts: bulk creation of ${ACCOUNTS} accounts (in-process jobs, PostgreSQL ${new URL(TEST_DATABASE_URL).host})\n`,
    );
    const mock = await boot(url, { COURSE_ACCOUNTS_BACKEND: 'mock' });
    cleanups.push(
      () => mock.app.close(),
      () => rmSync(mock.artifacts, { recursive: true, force: true }),
    );
    // Warm-up: connections, prepared plans, JIT.
    await bareJobRate(mock.app);
    await mock.app.get<DataSource>(getDataSourceToken()).query(`DELETE FROM jobs WHERE name = $1`, [BENCH_NOOP.name]);
    const bare = await bareJobRate(mock.app);
    const onMock = await bulkRun(mock.app);
    await mock.app.close();
    cleanups.length = 0;
    rmSync(mock.artifacts, { recursive: true, force: true });

    fake = await startFakeCourseBackend();
    fake.fail = { delayMs: HTTP_DELAY_MS };
    const http = await boot(
      url,
      fake.settings({ COURSE_ACCOUNTS_TIMEOUT_MS: '10000' }) as Partial<Record<SettingName, string>>,
    );
    cleanups.push(
      () => http.app.close(),
      () => rmSync(http.artifacts, { recursive: true, force: true }),
    );
    const concurrency = (await loadSettings({ env: {}, envFile: '/nonexistent/.env' })).COURSE_ACCOUNTS_CONCURRENCY;
    const onHttp = await bulkRun(http.app);
    const httpCounts = { ...fake.counts };
    const serial = (ACCOUNTS * HTTP_DELAY_MS) / 1000;
    await http.app.close();
    cleanups.length = 0;
    rmSync(http.artifacts, { recursive: true, force: true });

    // The same through array creations of up to BATCH accounts per call.
    fake.reset();
    fake.fail = { delayMs: HTTP_DELAY_MS };
    const batched = await boot(
      url,
      fake.settings({
        COURSE_ACCOUNTS_TIMEOUT_MS: '10000',
        COURSE_ACCOUNTS_BATCH_SIZE: String(BATCH),
      }) as Partial<Record<SettingName, string>>,
    );
    cleanups.push(
      () => batched.app.close(),
      () => rmSync(batched.artifacts, { recursive: true, force: true }),
    );
    const onBatch = await bulkRun(batched.app);
    const batchCounts = { ...fake.counts };
    const sizes = fake.batchSizes;

    const ratio = onMock.perSecond / bare;
    table([
      ['Measure', 'Value', 'Note'],
      [
        'Bare job rate (no-op jobs)',
        `${bare.toFixed(0)} jobs/s`,
        `${ACCOUNTS} jobs through JobsService, in-process runner`,
      ],
      [
        'Mock backend: bulk request',
        `${(onMock.requestS * 1000).toFixed(0)} ms`,
        `${ACCOUNTS} users + PENDING rows + job, one transaction`,
      ],
      ['Mock backend: until all OK', `${onMock.totalS.toFixed(2)} s`, `${onMock.ok} OK`],
      [
        'Mock backend: accounts/s',
        `${onMock.perSecond.toFixed(0)} accounts/s`,
        `${(ratio * 100).toFixed(0)} % of the bare job rate (goal ≥ 50 %) ${ratio >= 0.5 ? 'ok' : 'MISSED'}`,
      ],
      [
        'HTTP backend: until all OK',
        `${onHttp.totalS.toFixed(2)} s`,
        `${onHttp.ok} OK; ${httpCounts.creations} created upstream in ${httpCounts.createRequests} calls, ${httpCounts.tokenRequests} token request(s)`,
      ],
      [
        'HTTP backend: accounts/s',
        `${onHttp.perSecond.toFixed(0)} accounts/s`,
        `concurrency ${concurrency}; one call per account answered after ${HTTP_DELAY_MS} ms`,
      ],
      [
        'HTTP backend vs serial',
        `${((onHttp.totalS / serial) * 100).toFixed(0)} %`,
        `of ${ACCOUNTS} × ${HTTP_DELAY_MS} ms = ${serial.toFixed(1)} s`,
      ],
      [
        `HTTP backend, batch size ${BATCH}: until all OK`,
        `${onBatch.totalS.toFixed(2)} s`,
        `${onBatch.ok} OK; ${batchCounts.creations} created upstream in ${batchCounts.createRequests} calls (largest ${Math.max(...sizes, 0)}, mean ${(sizes.reduce((a, b) => a + b, 0) / Math.max(1, sizes.length)).toFixed(1)})`,
      ],
      [
        `HTTP backend, batch size ${BATCH}: accounts/s`,
        `${onBatch.perSecond.toFixed(0)} accounts/s`,
        `${(onBatch.perSecond / onHttp.perSecond).toFixed(1)}× batch size 1`,
      ],
    ]);
    await batched.app.close();
    cleanups.length = 0;
    rmSync(batched.artifacts, { recursive: true, force: true });
  } finally {
    for (const c of cleanups) await c();
    await fake?.close();
    await withAdminClient((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
