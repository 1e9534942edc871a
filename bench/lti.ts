/**
 * Full LTI 1.3 launches per second of the real app, against a ceiling measured in the same run:
 *
 *   one launch = POST /lti/login → the platform's auth endpoint (form_post page with the signed id_token)
 *                → POST /lti/launch with the state cookie → POST /api/v1/lti/launches/{id}/exchange,
 *                the exchange answer checked (user, project, role)
 *
 *   app       Campus Access (src/main.ts in its own process) on a fresh database of the local PostgreSQL,
 *             the platform registered through the REST API with course accounts provisioned on launch
 *   minimal   bench/minimal-lti-tool.ts in its own process: bare node:http, state in memory, the same
 *             checks with jose: the most an LTI tool can reach here                       goal ≥ 25 %
 *
 *   npm run bench:lti
 *
 * BENCH_LAUNCHES (20–20,000, default 600) launches per round, BENCH_IN_FLIGHT (1–100, default 10) at once,
 * over BENCH_USERS (1–10,000, default 100) rotating users in BENCH_CONTEXTS (1–100, default 5) courses
 * (user u is in course u mod contexts; every tenth user is an Instructor); BENCH_ROUNDS (1–9, default 3)
 * rounds alternate the two tools and medians are reported; a round also stops after BENCH_MAX_SECONDS
 * (5–300, default 60). BENCH_ONLY=app or minimal runs one side. BENCH_REDIS=1 gives the app the local Redis
 * (TEST_REDIS_URL, default redis://127.0.0.1:6379): login states and nonces there instead of PostgreSQL. Each launch of the warm-up is a first
 * launch (user, course and membership created); the measured ones update them, as later clicks do.
 *
 * CPU per launch is read from Linux /proc: the tool process (all its threads) and the PostgreSQL backends
 * serving the benchmark's database (found by their process title), so other databases on the same server
 * are not counted. The platform simulator (its RS256 signing included) and the load generator run in
 * this process and are the same for both tools. Everything stays on loopback; the database is dropped at
 * the end (also on Ctrl-C; one left by a crash is dropped by a later test run as stale).
 */
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { LmsBrowserPlatform, LmsLaunch, startLtiPlatform, ToolUrls } from '../test/utils/lti-platform';
import { LaunchExchange, launchOverHttp } from '../test/utils/lti-http-launch';
import { createOrganization, passwordLogin, registerPlatform, toolUrlsOf } from '../test/utils/lti-registration';
import { closedPort } from '../test/utils/local-http';
import { ServerProcess, startServer, stopAllServers } from '../test/utils/server-process';
import { databaseUrl, newRunId, withAdminClient } from '../test/utils/test-databases';

const clamp = (v: unknown, min: number, max: number, dflt: number) =>
  Math.min(max, Math.max(min, Math.round(Number(v)) || dflt));
const LAUNCHES = clamp(process.env.BENCH_LAUNCHES, 20, 20_000, 600);
const IN_FLIGHT = clamp(process.env.BENCH_IN_FLIGHT, 1, 100, 10);
const USERS = clamp(process.env.BENCH_USERS, 1, 10_000, 100);
const CONTEXTS = clamp(process.env.BENCH_CONTEXTS, 1, 100, 5);
const ROUNDS = clamp(process.env.BENCH_ROUNDS, 1, 9, 3);
const MAX_SECONDS = clamp(process.env.BENCH_MAX_SECONDS, 5, 300, 60);
const ONLY = (process.env.BENCH_ONLY ?? '').trim();
const REDIS = process.env.BENCH_REDIS === '1' ? (process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379') : '';
const ROOT = join(__dirname, '..');
/** Linux reports process times in clock ticks of 1/100 s (USER_HZ). */
const TICK_MS = 10;

type Side = 'app' | 'minimal';

interface Round {
  side: Side;
  launches: number;
  failed: number;
  seconds: number;
  latencies: number[];
  toolCpuMs: number;
  postgresCpuMs: number;
}

/** CPU milliseconds so far of process `pid` (all threads) and of the PostgreSQL backends of `database`. */
function cpuSample(pid: number, database: string): { tool: number; postgres: number } {
  const ticks = (p: string) => {
    const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  };
  let postgres = 0;
  for (const p of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      // A backend's title: "postgres: [<cluster>: ]<user> <database> <client> <state>".
      const title = readFileSync(`/proc/${p}/cmdline`, 'utf8');
      if (title.startsWith('postgres: ') && title.includes(` ${database} `)) postgres += ticks(p);
    } catch {
      // The process ended between listing and reading.
    }
  }
  return { tool: ticks(String(pid)), postgres };
}

function launchOf(i: number): LmsLaunch & { expectedRole: string } {
  const u = i % USERS;
  const instructor = u % 10 === 0;
  const c = u % CONTEXTS;
  return {
    sub: `bench-user-${u}`,
    givenName: 'Bench',
    familyName: `User ${u}`,
    name: `Bench User ${u}`,
    email: `bench.user${u}@example.edu`,
    roles: [`http://purl.imsglobal.org/vocab/lis/v2/membership#${instructor ? 'Instructor' : 'Learner'}`],
    context: { id: `bench-course-${c}`, title: `Benchmark course ${c}`, label: `BENCH${c}` },
    resourceLink: { id: `bench-link-${c}`, title: 'Lab' },
    expectedRole: instructor ? 'project_manager' : 'project_member',
  };
}

function check(answer: LaunchExchange, expectedRole: string): void {
  if (!answer.access_token || !answer.user?.id || !answer.project?.id || answer.role !== expectedRole) {
    throw new Error(`unexpected exchange answer: ${JSON.stringify(answer).slice(0, 300)}`);
  }
}

/** `count` launches (from launch number `first`), `IN_FLIGHT` at a time, within MAX_SECONDS. */
async function run(
  side: Side,
  platform: LmsBrowserPlatform,
  loginUrl: string,
  first: number,
  count: number,
  pid: number,
  database: string,
): Promise<Round> {
  const latencies: number[] = [];
  let next = first;
  let failed = 0;
  let firstError: unknown;
  const deadline = performance.now() + MAX_SECONDS * 1000;
  const before = cpuSample(pid, database);
  const started = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < first + count && performance.now() < deadline) {
        const launch = launchOf(next++);
        const t0 = performance.now();
        try {
          check(await launchOverHttp(platform, loginUrl, launch), launch.expectedRole);
          latencies.push(performance.now() - t0);
        } catch (e) {
          failed++;
          firstError ??= e;
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const after = cpuSample(pid, database);
  if (firstError) console.error(`${side}: ${failed} failed launches; the first: ${String(firstError)}`);
  return {
    side,
    launches: latencies.length,
    failed,
    seconds,
    latencies,
    toolCpuMs: after.tool - before.tool,
    postgresCpuMs: after.postgres - before.postgres,
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const percentile = (xs: number[], p: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

function summarize(rounds: Round[]) {
  const rates = rounds.map((r) => r.launches / r.seconds);
  const all = rounds.flatMap((r) => r.latencies);
  const launches = rounds.reduce((a, r) => a + r.launches, 0);
  return {
    rate: median(rates),
    range: rounds.length > 1 ? `${Math.min(...rates).toFixed(0)}–${Math.max(...rates).toFixed(0)}` : '–',
    p50: percentile(all, 50),
    p99: percentile(all, 99),
    launches,
    failed: rounds.reduce((a, r) => a + r.failed, 0),
    toolCpu: rounds.reduce((a, r) => a + r.toolCpuMs, 0) / launches,
    postgresCpu: rounds.reduce((a, r) => a + r.postgresCpuMs, 0) / launches,
  };
}

function startMinimalTool(platform: LmsBrowserPlatform): Promise<{ child: ChildProcess; origin: string }> {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'bench/minimal-lti-tool.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      MINIMAL_LTI_TOOL: JSON.stringify({
        issuer: platform.issuer,
        clientId: platform.clientId,
        deploymentIds: [platform.deploymentId],
        jwksUrl: platform.jwksUrl,
        authLoginUrl: platform.authLoginUrl,
      }),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const found = /listening (http:\/\/\S+)/.exec(out);
      if (found) resolve({ child, origin: found[1] });
    });
    child.once('exit', (code) => reject(new Error(`the minimal tool exited (${code}) before listening`)));
  });
}

async function main(): Promise<void> {
  const dbName = `ca_test_${newRunId()}_bench_lti`;
  const children: ChildProcess[] = [];
  let app: ServerProcess | undefined;
  let platform: LmsBrowserPlatform | undefined;
  let dataDir = '';
  let dropped = false;
  const cleanup = async () => {
    for (const c of children) c.kill('SIGKILL');
    await stopAllServers(5000);
    await platform?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
    if (!dropped) {
      dropped = true;
      await withAdminClient((c) => c.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`));
    }
  };
  process.once('SIGINT', () => {
    console.error('\ninterrupted; cleaning up');
    void cleanup().finally(() => process.exit(130));
  });

  try {
    const sides: Side[] = ONLY === 'app' || ONLY === 'minimal' ? [ONLY] : ['app', 'minimal'];
    platform = await startLtiPlatform({ host: '127.0.0.1' });
    const tools: Partial<Record<Side, { pid: number; urls: ToolUrls; database: string }>> = {};

    if (sides.includes('app')) {
      await withAdminClient((c) => c.query(`CREATE DATABASE "${dbName}"`));
      dataDir = await mkdtemp(join(tmpdir(), 'campus-access-bench-lti-'));
      const port = await closedPort();
      const base = `http://127.0.0.1:${port}`;
      const password = randomBytes(24).toString('base64url');
      app = startServer({
        NODE_ENV: 'production',
        HOST: '127.0.0.1',
        PORT: String(port),
        PUBLIC_URL: base,
        LOG_LEVEL: 'warn',
        DATABASE_URL: databaseUrl(dbName),
        MIGRATIONS_RUN: 'true',
        KEY_ENCRYPTION_SECRET: randomBytes(32).toString('base64url'),
        BOOTSTRAP_ADMIN_PASSWORD: password,
        DATA_DIR: dataDir,
        ...(REDIS ? { REDIS_URL: REDIS, REDIS_KEY_PREFIX: `bench-lti-${randomBytes(4).toString('hex')}` } : {}),
      });
      await app.waitForStdout(/Campus Access is running at/, 120_000);
      const token = await passwordLogin(base, 'admin', password);
      const org = await createOrganization(base, token, `bench-lti-${randomBytes(4).toString('hex')}`, 'Benchmark');
      const registered = await registerPlatform(base, token, platform, org.id, { course_accounts_on_launch: 'always' });
      tools.app = { pid: app.child.pid!, urls: toolUrlsOf(registered.tool), database: dbName };
    }
    const minimal = sides.includes('minimal') ? await startMinimalTool(platform) : undefined;
    if (minimal) {
      children.push(minimal.child);
      const { origin } = minimal;
      tools.minimal = {
        pid: minimal.child.pid!,
        urls: { loginUrl: `${origin}/lti/login`, launchUrl: `${origin}/lti/launch`, targetLinkUri: `${origin}/app` },
        database: '',
      };
    }

    // The simulator has one registered tool at a time; each run registers the one it measures.
    const use = (side: Side) => {
      const tool = tools[side]!;
      platform!.registerTool(tool.urls);
      return { ...tool, loginUrl: tool.urls.loginUrl };
    };

    console.log(
      `LTI launches: ${LAUNCHES} per round × ${ROUNDS} rounds, ${IN_FLIGHT} in flight, ${USERS} users over ${CONTEXTS} courses; ${cpus().length} CPUs, load ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    // Warm-up: every user's first launch (user, course, membership created), JIT, pools, key caches.
    for (const side of sides) {
      const tool = use(side);
      const warm = await run(side, platform, tool.loginUrl, 0, Math.max(USERS, 50), tool.pid, tool.database);
      if (warm.failed > 0) throw new Error(`${side}: the warm-up had ${warm.failed} failed launches`);
    }
    const rounds: Round[] = [];
    let first = Math.max(USERS, 50);
    for (let i = 0; i < ROUNDS; i++) {
      const line: string[] = [];
      for (const side of i % 2 === 0 ? sides : [...sides].reverse()) {
        const tool = use(side);
        const round = await run(side, platform, tool.loginUrl, first, LAUNCHES, tool.pid, tool.database);
        first += LAUNCHES;
        rounds.push(round);
        line.push(`${side} ${(round.launches / round.seconds).toFixed(0)}/s`);
      }
      console.log(`round ${i + 1}/${ROUNDS}: ${line.join(', ')}`);
    }

    const rows = sides.map((side) => ({ side, ...summarize(rounds.filter((r) => r.side === side)) }));
    const label: Record<Side, string> = {
      app: REDIS ? 'Campus Access (PostgreSQL + Redis)' : 'Campus Access (PostgreSQL)',
      minimal: 'minimal node:http tool (memory)',
    };
    const table = [
      ['Tool', 'launches/s (median)', 'range', 'p50 ms', 'p99 ms', 'launches', 'failed', 'tool CPU ms', 'PG CPU ms'],
      ...rows.map((r) => [
        label[r.side],
        r.rate.toFixed(0),
        r.range,
        r.p50.toFixed(1),
        r.p99.toFixed(1),
        String(r.launches),
        String(r.failed),
        r.toolCpu.toFixed(2),
        r.side === 'app' ? r.postgresCpu.toFixed(2) : '–',
      ]),
    ];
    const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
    console.log(
      `\n${table.map((row) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ')).join('\n')}`,
    );
    console.log('(CPU ms are per launch: the tool process, and the PostgreSQL backends of its database)\n');
    const pct = (x: number) => `${(x * 100).toFixed(0)} %`;
    const [appRow, minimalRow] = [rows.find((r) => r.side === 'app'), rows.find((r) => r.side === 'minimal')];
    if (appRow && minimalRow) {
      const perRound = rounds
        .filter((r) => r.side === 'app')
        .map((r, i) => {
          const m = rounds.filter((x) => x.side === 'minimal')[i];
          return r.launches / r.seconds / (m.launches / m.seconds);
        });
      const ratio = median(perRound);
      console.log(
        `Campus Access / minimal tool, launches/s: ${pct(ratio)} (goal ≥ 25 %: ${ratio >= 0.25 ? 'met' : 'NOT met'}); rounds ${perRound.map(pct).join(', ')}`,
      );
      console.log(
        `  on CPU per launch: tool process ${pct(minimalRow.toolCpu / appRow.toolCpu)}, tool + PostgreSQL ${pct(minimalRow.toolCpu / (appRow.toolCpu + appRow.postgresCpu))}`,
      );
    }
    if (rows.some((r) => r.failed > 0)) {
      console.log('\nWARNING: some launches failed; the figures above leave them out.');
      process.exitCode = 1;
    }
  } finally {
    await cleanup();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
