/**
 * Job throughput: 10,000 no-op jobs enqueued and completed through JobsService (a durable row per
 * job: insert, atomic claim, outcome) against the bare queue doing the same work with no rows:
 *
 *   - Bull: JobsService + Bull workers  vs  bare Bull (add + process, no database)
 *   - in-process: JobsService + the in-process runner  vs  bare Bull (the goal), and vs the same runner
 *     calling a no-op in memory (shown as the price of a durable row, not judged)
 *
 *   npm run bench:jobs
 *
 * Needs PostgreSQL (TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test; a scratch
 * database is created and dropped) and Redis (TEST_REDIS_URL, default redis://127.0.0.1:6379; keys
 * under a unique prefix, removed afterwards). BENCH_JOBS sets the job count (default 10000),
 * BENCH_CONCURRENCY the concurrencies compared (default 16,64,128), BENCH_ROUNDS how many times each
 * pair is run (default 3, 1–9): the two sides of a pair run back to back, and medians are compared,
 * because a run of 10,000 jobs lasts one to three seconds and this machine's speed drifts more than
 * that between runs (bare Bull alone has measured anywhere from 3,600 to 10,700 jobs/s).
 *
 * Each run also reports CPU time per job: this process (all threads) and, when they run on this machine
 * (Linux /proc), the PostgreSQL and Redis server processes. Both sides of a comparison share the same
 * cores, so the ratio of CPU per job shows what each costs with little of the drift that moves rates.
 *
 * Then the memory of users.export: peak RSS of a streamed CSV export of BENCH_EXPORT_ROWS users
 * (default 1,000,000; 0 skips) against one a tenth the size — flat means the same peak. The npm
 * script caps the V8 heap (192 MB) so the collector runs instead of the heap growing into free
 * memory: RSS then shows what the export keeps alive, not garbage not yet collected.
 */
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { getDataSourceToken } from '@nestjs/typeorm';
import Bull from 'bull';
import Redis from 'ioredis';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { AppModule } from '../src/app.module';
import { loadSettings } from '../src/config/load-settings';
import { dataSourceOptions } from '../src/database/data-source-options';
import { USERS_EXPORT } from '../src/jobs/exports/users-export.job';
import { JobsService } from '../src/jobs/jobs.service';
import { defineJob } from '../src/jobs/processors/job-definition';
import { JobProcessor, ProcessesJob } from '../src/jobs/processors/job-processor';
import { InProcessQueueAdapter } from '../src/jobs/queue/in-process.queue-adapter';
import { redisOptions } from '../src/jobs/queue/bull.queue-adapter';
import { databaseUrl, withAdminClient } from '../test/utils/test-databases';

const JOBS = Math.max(100, Number(process.env.BENCH_JOBS ?? 10_000) || 10_000);
/** Jobs run at once per queue, the same for both sides of each comparison; the comparison is made at each. */
const CONCURRENCIES = (process.env.BENCH_CONCURRENCY ?? '16,64,128')
  .split(',')
  .map((c) => Math.max(1, Number(c) || 16));
/** Callers enqueueing at once (as concurrent requests would). */
const PRODUCERS = 32;
/** Users in the export memory measure (0 skips it). */
const EXPORT_ROWS = Math.max(0, Number(process.env.BENCH_EXPORT_ROWS ?? 1_000_000) || 0);
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const ROUNDS = Math.min(9, Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3) || 3));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

/** CPU milliseconds used so far: this process, and the PostgreSQL and Redis server processes when /proc shows them. */
interface CpuSample {
  node: number;
  postgres: number;
  redis: number;
}

/** Linux reports process times in clock ticks of 1/100 s (USER_HZ). */
const TICK_MS = 10;

function cpuSample(): CpuSample {
  const usage = process.cpuUsage();
  const sample: CpuSample = { node: (usage.user + usage.system) / 1000, postgres: 0, redis: 0 };
  let pids: string[] = [];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return sample;
  }
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ms = (Number(fields[11]) + Number(fields[12])) * TICK_MS;
      if (name.startsWith('postgres')) sample.postgres += ms;
      else if (name.startsWith('redis-server')) sample.redis += ms;
    } catch {
      // The process ended between listing and reading.
    }
  }
  return sample;
}

/** A run's rate and its CPU microseconds per job, by process. */
interface Throughput {
  rate: number;
  cpu: CpuSample;
}

function throughput(jobs: number, seconds: number, from: CpuSample, to: CpuSample): Throughput {
  const perJob = (a: number, b: number) => ((b - a) * 1000) / jobs;
  return {
    rate: jobs / seconds,
    cpu: {
      node: perJob(from.node, to.node),
      postgres: perJob(from.postgres, to.postgres),
      redis: perJob(from.redis, to.redis),
    },
  };
}

const BENCH_NOOP = defineJob<Record<string, never>>('bench.noop');

/** Runs of the no-op processor, so the measure can wait for them without querying the database it measures. */
const processed = { count: 0, target: Infinity, reached: () => {} };

@ProcessesJob(BENCH_NOOP)
class BenchNoopProcessor implements JobProcessor<Record<string, never>> {
  async process(): Promise<void> {
    if (++processed.count === processed.target) processed.reached();
  }
}

@Module({ providers: [BenchNoopProcessor] })
class BenchModule {}

/** Runs `work(i)` for i in [0, count) with `parallel` callers. */
async function inParallel(count: number, parallel: number, work: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < count) await work(next++);
    }),
  );
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A fresh migrated database per measured app, so both runs start from empty tables. */
async function createDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `ca_bench_${Date.now()}_${Math.random().toString(36).slice(2, 8)}`;
  await withAdminClient((c) => c.query(`CREATE DATABASE "${name}"`));
  const ds = new DataSource(dataSourceOptions({ url: databaseUrl(name), poolSize: 1 }));
  await ds.initialize();
  await ds.runMigrations({ transaction: 'each' });
  await ds.destroy();
  return {
    url: databaseUrl(name),
    drop: () => withAdminClient((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined),
  };
}

/** The application (no HTTP) on a fresh database; `close` removes everything it made. */
async function bootApp(redisUrl: string | undefined, prefix: string, concurrency: number) {
  const db = await createDatabase();
  const dataDir = mkdtempSync(join(tmpdir(), 'ca-bench-'));
  const settings = await loadSettings({
    env: {},
    envFile: '/nonexistent/.env',
    overrides: {
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      MIGRATIONS_RUN: 'false',
      DATABASE_URL: db.url,
      DATABASE_POOL_SIZE: '24',
      DATA_DIR: dataDir,
      KEY_ENCRYPTION_SECRET: randomBytes(32).toString('base64url'),
      REDIS_URL: redisUrl ?? '',
      REDIS_KEY_PREFIX: prefix,
      JOB_CONCURRENCY: String(concurrency),
    },
  });
  const app = await NestFactory.createApplicationContext(
    AppModule.forRoot({ settings, databaseUrl: db.url, extraImports: [BenchModule] }),
    { logger: ['error', 'warn'] },
  );
  await app.init();
  return {
    app,
    close: async () => {
      await app.close();
      await db.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Jobs per second through JobsService: enqueue everything, wait until every row is Succeeded. CPU is
 * sampled from the first enqueue to the last success, before the app closes: a database backend's
 * time is gone from /proc once its connection ends.
 */
async function throughJobsService(
  redisUrl: string | undefined,
  prefix: string,
  concurrency: number,
): Promise<Throughput> {
  const { app, close } = await bootApp(redisUrl, prefix, concurrency);
  try {
    const jobs = app.get(JobsService);
    const ds = app.get<DataSource>(getDataSourceToken());
    const owner = { type: 'user' as const, id: randomUUID() };
    processed.count = 0;
    processed.target = JOBS;
    const allProcessed = new Promise<void>((resolve) => (processed.reached = resolve));
    const cpuFrom = cpuSample();
    const started = process.hrtime.bigint();
    await inParallel(JOBS, PRODUCERS, () => jobs.enqueue(BENCH_NOOP, {}, { owner }));
    // Polling the jobs table while the jobs run would load the database being measured (a count over
    // the whole table every few milliseconds); the processor's own count says when to start looking.
    await Promise.race([
      allProcessed,
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error(`Timed out waiting for ${JOBS} jobs to run`)), 600_000).unref(),
      ),
    ]);
    await until(async () => {
      const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM jobs WHERE state = 'Succeeded'`);
      return n >= JOBS;
    }, `${JOBS} jobs to succeed`);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const cpuTo = cpuSample();
    const [{ n: others }] = await ds.query(`SELECT count(*)::int AS n FROM jobs WHERE state <> 'Succeeded'`);
    if (others > 0) throw new Error(`${others} jobs did not succeed`);
    return throughput(JOBS, seconds, cpuFrom, cpuTo);
  } finally {
    await close();
  }
}

interface ExportMeasure {
  rows: number;
  seconds: number;
  baselineMb: number;
  peakMb: number;
  csvMb: number;
}

/**
 * Runs users.export over `sizes` organizations (users inserted with generate_series) in one process
 * with the in-process runner, sampling RSS every 20 ms: a streamed export keeps the same peak
 * whatever the row count.
 */
async function exportMemory(sizes: number[]): Promise<ExportMeasure[]> {
  const { app, close } = await bootApp(undefined, 'unused', 4);
  try {
    const ds = app.get<DataSource>(getDataSourceToken());
    const jobs = app.get(JobsService);
    const out: ExportMeasure[] = [];
    // The export runs only for an owner who may still export the users: a staff member.
    const staff = `bench-staff-${randomUUID().slice(0, 8)}`;
    const [owner] = await ds.query(`INSERT INTO users (username, email, is_staff) VALUES ($1, $2, true) RETURNING id`, [
      staff,
      `${staff}@example.edu`,
    ]);
    for (const rows of sizes) {
      const [org] = await ds.query(`INSERT INTO organizations (key, name) VALUES ($1, 'Bench') RETURNING id`, [
        `bench-${randomUUID().slice(0, 8)}`,
      ]);
      for (let from = 1; from <= rows; from += 250_000) {
        await ds.query(
          `INSERT INTO users (username, email, first_name, last_name, organization_id)
           SELECT $2 || g, $2 || g || '@example.edu', 'First ' || g, 'Last ' || g, $1 FROM generate_series($3::int, $4::int) AS g`,
          [org.id, `u${org.id.slice(0, 8)}-`, from, Math.min(rows, from + 249_999)],
        );
      }
      await ds.query('ANALYZE users');
      (global as { gc?: () => void }).gc?.();
      await new Promise((r) => setTimeout(r, 200));
      const baseline = process.memoryUsage().rss;
      let peak = baseline;
      const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
      const started = process.hrtime.bigint();
      const { id } = await jobs.enqueue(
        USERS_EXPORT,
        { organizationId: org.id },
        { owner: { type: 'user', id: owner.id }, organizationId: org.id },
      );
      await until(
        async () => {
          const [job] = await ds.query(`SELECT state, error FROM jobs WHERE id = $1`, [id]);
          if (job.state === 'Failed') throw new Error(`export failed: ${job.error}`);
          return job.state === 'Succeeded';
        },
        'the export',
        1_800_000,
      );
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      clearInterval(sampler);
      const [artifact] = await ds.query(`SELECT size FROM job_artifacts WHERE job_id = $1 AND name = 'users.csv'`, [
        id,
      ]);
      out.push({
        rows,
        seconds,
        baselineMb: baseline / 2 ** 20,
        peakMb: peak / 2 ** 20,
        csvMb: Number(artifact.size) / 2 ** 20,
      });
    }
    return out;
  } finally {
    await close();
  }
}

/** Jobs per second through bare Bull: the same adds and no-op processing, no database. */
async function throughBareBull(prefix: string, concurrency: number): Promise<Throughput> {
  const queue = new Bull<{ n: number }>('bare', { redis: redisOptions(REDIS_URL), prefix });
  await queue.isReady();
  let completed = 0;
  let done!: () => void;
  const allDone = new Promise<void>((r) => (done = r));
  void queue.process(concurrency, async () => {
    if (++completed === JOBS) done();
  });
  const cpuFrom = cpuSample();
  const started = process.hrtime.bigint();
  await inParallel(JOBS, PRODUCERS, (i) =>
    queue.add({ n: i }, { removeOnComplete: true, removeOnFail: true, attempts: 1 }),
  );
  await allDone;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpuTo = cpuSample();
  await queue.close();
  return throughput(JOBS, seconds, cpuFrom, cpuTo);
}

/** Jobs per second through the in-process runner calling a no-op: the queue machinery alone. */
async function throughBareInProcess(concurrency: number): Promise<number> {
  const adapter = new InProcessQueueAdapter();
  let completed = 0;
  let done!: () => void;
  const allDone = new Promise<void>((r) => (done = r));
  adapter.consume(['bare'], concurrency, async () => {
    if (++completed === JOBS) done();
  });
  const started = process.hrtime.bigint();
  await inParallel(JOBS, PRODUCERS, (i) => adapter.dispatch('bare', { jobId: String(i), lease: 0 }, 0));
  await allDone;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await adapter.close();
  return JOBS / seconds;
}

async function removeKeys(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

const fmt = (n: number) => `${Math.round(n).toLocaleString('en-US')} jobs/s`;
const pct = (a: number, b: number) => `${((a / b) * 100).toFixed(1)} %`;

async function main(): Promise<void> {
  const prefix = `ca-bench-${randomUUID()}`;
  console.log(
    `${JOBS.toLocaleString('en-US')} no-op jobs per run, ${PRODUCERS} producers, concurrency ${CONCURRENCIES.join(', ')}, ${ROUNDS} rounds (medians)\n`,
  );
  const rows: string[] = [];
  type Side = 'bareBull' | 'serviceBull' | 'bareLocal' | 'serviceLocal';
  const best: Record<Side, number> = { bareBull: 0, serviceBull: 0, bareLocal: 0, serviceLocal: 0 };
  const pairRatios: number[] = [];
  const cpuRows: string[] = [];
  const cpuRatios: number[] = [];
  try {
    for (const c of CONCURRENCIES) {
      const runs: Record<Side, number[]> = { bareBull: [], serviceBull: [], bareLocal: [], serviceLocal: [] };
      const cpu: { bareBull: CpuSample[]; serviceBull: CpuSample[] } = { bareBull: [], serviceBull: [] };
      const bull = async (side: 'bareBull' | 'serviceBull', r: number) => {
        const t =
          side === 'bareBull'
            ? await throughBareBull(`${prefix}-bare-${c}-${r}`, c)
            : await throughJobsService(REDIS_URL, `${prefix}-jobs-${c}-${r}`, c);
        runs[side].push(t.rate);
        cpu[side].push(t.cpu);
      };
      for (let r = 0; r < ROUNDS; r++) {
        // Alternate which side goes first, so a drift of the machine's speed does not favour one.
        for (const side of r % 2 === 0
          ? (['bareBull', 'serviceBull'] as const)
          : (['serviceBull', 'bareBull'] as const))
          await bull(side, r);
        pairRatios.push(runs.serviceBull[r] / runs.bareBull[r]);
        runs.bareLocal.push(await throughBareInProcess(c));
        runs.serviceLocal.push((await throughJobsService(undefined, prefix, c)).rate);
      }
      const cpuMedian = (samples: CpuSample[]) => ({
        node: median(samples.map((x) => x.node)),
        postgres: median(samples.map((x) => x.postgres)),
        redis: median(samples.map((x) => x.redis)),
        total: median(samples.map((x) => x.node + x.postgres + x.redis)),
      });
      const bareCpu = cpuMedian(cpu.bareBull);
      const serviceCpu = cpuMedian(cpu.serviceBull);
      cpuRatios.push(bareCpu.total / serviceCpu.total);
      const us = (x: { node: number; postgres: number; redis: number; total: number }) =>
        `${Math.round(x.node)} + ${Math.round(x.postgres)} + ${Math.round(x.redis)} = ${Math.round(x.total)}`;
      cpuRows.push(`| ${c} | ${us(bareCpu)} | ${us(serviceCpu)} | ${pct(bareCpu.total, serviceCpu.total)} |`);
      const m = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, median(v)])) as Record<Side, number>;
      for (const k of Object.keys(best) as Side[]) best[k] = Math.max(best[k], m[k]);
      const spread = (xs: number[]) =>
        xs.length > 1
          ? ` (${Math.round(Math.min(...xs)).toLocaleString('en-US')}–${Math.round(Math.max(...xs)).toLocaleString('en-US')})`
          : '';
      rows.push(
        `| ${c} | ${fmt(m.bareBull)}${spread(runs.bareBull)} | ${fmt(m.serviceBull)}${spread(runs.serviceBull)} | ${pct(m.serviceBull, m.bareBull)} | ${fmt(m.bareLocal)} | ${fmt(m.serviceLocal)} | ${pct(m.serviceLocal, m.bareLocal)} |`,
      );
    }
    console.log(
      '| Concurrency | Bare Bull, median (range) | JobsService + Bull, median (range) | Ratio | Bare in-process | JobsService + in-process | Ratio |',
    );
    console.log('|---|---|---|---|---|---|---|');
    for (const row of rows) console.log(row);
    console.log(
      `| best median of each | ${fmt(best.bareBull)} | ${fmt(best.serviceBull)} | ${pct(best.serviceBull, best.bareBull)} | ${fmt(best.bareLocal)} | ${fmt(best.serviceLocal)} | ${pct(best.serviceLocal, best.bareLocal)} |`,
    );
    const met = best.serviceBull >= best.bareBull / 2;
    console.log(
      `\nGoal, JobsService + Bull ≥ 50 % of bare Bull (best median of each): ${met ? 'met' : 'NOT met'} (${pct(best.serviceBull, best.bareBull)})`,
    );
    console.log(
      `Back-to-back pairs, JobsService + Bull / bare Bull: median ${(median(pairRatios) * 100).toFixed(1)} %, range ${(Math.min(...pairRatios) * 100).toFixed(1)}–${(Math.max(...pairRatios) * 100).toFixed(1)} %`,
    );
    console.log('\nCPU per job, µs (median of the rounds): this process + PostgreSQL + Redis servers on this machine');
    console.log('| Concurrency | Bare Bull | JobsService + Bull | Bare / JobsService |');
    console.log('|---|---|---|---|');
    for (const row of cpuRows) console.log(row);
    console.log(
      `On CPU per job, JobsService + Bull costs ${(100 / median(cpuRatios)).toFixed(0)} % of bare Bull's CPU; at equal use of the cores that is a rate of ${(median(cpuRatios) * 100).toFixed(1)} % of bare Bull's (median over the concurrencies)\n`,
    );
    // "Same for the in-process runner": a queue without rows is the baseline; with no Redis the nearest
    // one doing the same work (a durable hand-off to a worker) is bare Bull, measured above.
    const localMet = best.serviceLocal >= best.bareBull / 2;
    console.log(
      `Goal, JobsService + in-process ≥ 50 % of bare Bull (best median of each): ${localMet ? 'met' : 'NOT met'} (${pct(best.serviceLocal, best.bareBull)})`,
    );
    console.log(
      'The bare in-process runner calls a no-op in memory; its ratio shows the price of a durable row per job, not a goal.',
    );

    if (EXPORT_ROWS > 0) {
      const sizes = [Math.max(1000, Math.round(EXPORT_ROWS / 10)), EXPORT_ROWS];
      console.log(
        `\nusers.export memory (${sizes.map((n) => n.toLocaleString('en-US')).join(' and ')} users, one process, RSS sampled every 20 ms)\n`,
      );
      console.log('| Users | Time | Rows/s | CSV | RSS before | Peak RSS | Peak − before |');
      console.log('|---|---|---|---|---|---|---|');
      for (const m of await exportMemory(sizes)) {
        console.log(
          `| ${m.rows.toLocaleString('en-US')} | ${m.seconds.toFixed(1)} s | ${Math.round(m.rows / m.seconds).toLocaleString('en-US')} | ${m.csvMb.toFixed(0)} MB | ${m.baselineMb.toFixed(0)} MB | ${m.peakMb.toFixed(0)} MB | ${(m.peakMb - m.baselineMb).toFixed(0)} MB |`,
        );
      }
    }
  } finally {
    await removeKeys(prefix);
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
