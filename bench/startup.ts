/**
 * Start-up time and /health/live throughput of the built server, against a bare node:http baseline
 * measured in the same run on the same machine.
 *
 *   npm run bench:startup
 *
 * Builds dist/ first when it is missing or older than src/ or migrations/. Every child process is
 * stopped with SIGINT (so the embedded PostgreSQL shuts down cleanly) and temporary data folders are
 * removed at the end. BENCH_DURATION_S (1–10, default 10) sets each throughput run's length.
 */
import { ChildProcess, execSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');
const MAIN = join(ROOT, 'dist', 'main.js');
const STARTS = 3;
const CONNECTIONS = 10;
const DURATION_S = Math.min(10, Math.max(1, Number(process.env.BENCH_DURATION_S ?? 10) || 10));
const READY_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 20_000;

/** The part of autocannon's programmatic API used here (the package ships no types). */
interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; average: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}
type Autocannon = (opts: { url: string; connections: number; duration: number }) => Promise<AutocannonResult>;
const autocannon = createRequire(__filename)('autocannon') as Autocannon;

const children = new Set<ChildProcess>();
const tempDirs: string[] = [];
let interrupted = false;

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function ensureBuilt(): void {
  const sources = Math.max(newestMtime(join(ROOT, 'src')), newestMtime(join(ROOT, 'migrations')));
  if (existsSync(MAIN) && statSync(MAIN).mtimeMs >= sources) return;
  console.log('Building dist/ (npm run build)…');
  execSync('npm run build', { cwd: ROOT, stdio: 'inherit' });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** The environment of a server that uses nothing but its defaults and the given data folder. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const key of ['PATH', 'HOME', 'LANG', 'TMPDIR']) if (process.env[key]) env[key] = process.env[key];
  return { ...env, ENV_FILE: '/nonexistent/.env', HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...extra };
}

function startChild(args: string[], env: NodeJS.ProcessEnv): { child: ChildProcess; output: () => string } {
  if (interrupted) throw new Error('interrupted');
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.on('exit', () => children.delete(child));
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { child, output: () => tail };
}

async function waitFor200(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`server exited with ${child.exitCode} before ${url} answered:\n${output()}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${url} did not answer 200 within ${READY_TIMEOUT_MS / 1000} s:\n${output()}`);
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

interface RunningServer {
  url: string;
  child: ChildProcess;
}

/** Spawns `node dist/main.js` on DATA_DIR and returns once /health/ready answers 200, with the time it took. */
async function startServer(dataDir: string): Promise<{ ms: number; server: RunningServer }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const started = process.hrtime.bigint();
  const { child, output } = startChild([MAIN], cleanEnv({ DATA_DIR: dataDir, PORT: String(port) }));
  await waitFor200(`${url}/health/ready`, child, output);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  return { ms, server: { url, child } };
}

const BASELINE_SERVER = `
const http = require('node:http');
const body = JSON.stringify({ status: 'ok' });
http.createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}).listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGINT', () => process.exit(0));
`;

async function startBaseline(): Promise<RunningServer> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const { child, output } = startChild(['-e', BASELINE_SERVER], cleanEnv({ PORT: String(port) }));
  await waitFor200(`${url}/health/live`, child, output);
  return { url, child };
}

async function throughput(url: string): Promise<AutocannonResult> {
  const result = await autocannon({ url, connections: CONNECTIONS, duration: DURATION_S });
  if (result.errors || result.timeouts || result.non2xx) {
    throw new Error(`${url}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx responses`);
  }
  return result;
}

/** autocannon reports latency in whole milliseconds for percentiles; a ratio to ~0 ms says nothing. */
function latencyRow(label: string, ours: number, baseline: number): [string, string, string, string] {
  const ratio = baseline >= 0.05 ? fmt(ours / baseline, 2) : '—';
  return [label, `${fmt(ours, 2)} ms`, `${fmt(baseline, 2)} ms`, ratio];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function main(): Promise<void> {
  ensureBuilt();
  const base = mkdtempSync(join(tmpdir(), 'campus-access-bench-'));
  tempDirs.push(base);
  // As root the embedded PostgreSQL runs as the `postgres` user, which must be able to enter this folder.
  chmodSync(base, 0o711);

  console.log(`Cold starts (fresh DATA_DIR, includes initdb) ×${STARTS}…`);
  const cold: number[] = [];
  let lastDataDir = '';
  for (let i = 0; i < STARTS; i++) {
    lastDataDir = join(base, `data-${i}`);
    const { ms, server } = await startServer(lastDataDir);
    cold.push(ms);
    await stop(server.child);
  }

  console.log(`Warm starts (same DATA_DIR) ×${STARTS}…`);
  const warm: number[] = [];
  let running: RunningServer | undefined;
  for (let i = 0; i < STARTS; i++) {
    const { ms, server } = await startServer(lastDataDir);
    warm.push(ms);
    if (i < STARTS - 1) await stop(server.child);
    else running = server;
  }

  console.log(`Throughput of /health/live, ${CONNECTIONS} connections, ${DURATION_S} s…`);
  const ours = await throughput(`${running!.url}/health/live`);
  await stop(running!.child);

  console.log(`Baseline: bare node:http answering {"status":"ok"}, ${CONNECTIONS} connections, ${DURATION_S} s…`);
  const baselineServer = await startBaseline();
  const baseline = await throughput(`${baselineServer.url}/health/live`);
  await stop(baselineServer.child);

  const rows: [string, string, string, string][] = [
    ['Measure', 'Campus Access', 'Baseline', 'Ratio (ours / baseline)'],
    [`Cold start to /health/ready 200, median of ${STARTS}`, `${fmt(median(cold))} ms`, '', ''],
    [`Warm start to /health/ready 200, median of ${STARTS}`, `${fmt(median(warm))} ms`, '', ''],
    [
      '/health/live requests/s (mean)',
      fmt(ours.requests.average),
      fmt(baseline.requests.average),
      fmt(ours.requests.average / baseline.requests.average, 2),
    ],
    latencyRow('/health/live latency, mean', ours.latency.average, baseline.latency.average),
    latencyRow('/health/live latency, p99', ours.latency.p99, baseline.latency.p99),
  ];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const line = (r: string[]) =>
    `| ${r.map((v, c) => (c === 0 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join(' | ')} |`;
  console.log('');
  console.log(line(rows[0]));
  console.log(`|${widths.map((w, c) => (c === 0 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|')}|`);
  for (const r of rows.slice(1)) console.log(line(r));
  console.log('');
  console.log(
    `Cold starts: ${cold.map((ms) => fmt(ms)).join(', ')} ms; warm starts: ${warm.map((ms) => fmt(ms)).join(', ')} ms`,
  );
  console.log(
    `Node ${process.version}, ${process.platform}/${process.arch}; load generator and servers share this machine.`,
  );
}

async function cleanup(): Promise<void> {
  await Promise.all([...children].map((child) => stop(child)));
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
}

process.once('SIGINT', () => {
  interrupted = true;
  console.error('Interrupted; stopping servers…');
  void cleanup().finally(() => process.exit(130));
});

main()
  .then(cleanup)
  .catch(async (e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    await cleanup();
    process.exit(1);
  });
