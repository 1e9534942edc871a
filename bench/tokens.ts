/**
 * Token issuance and verification throughput of the real app, each against a baseline measured in the
 * same run on the same machine:
 *
 *   (a) POST /oauth/token (client_credentials, HTTP Basic) tokens per second
 *       vs raw jose signing of an equivalent token in-process            goal ≥ 50 %
 *   (b) GET /api/v1/auth/me with a valid user token, requests per second
 *       vs GET /health/live of the same app                               goal ≥ 40 %
 *   (c) POST /oauth/token tokens per second, p99 and CPU per token
 *       vs oidc-provider 9 (static in-memory client, RS256 JWT access tokens) in this process
 *                                                                          goal ≥ 100 %, p99 no worse
 *
 * The app runs at its default settings: every request logged (LOG_LEVEL=info, to /dev/null), token
 * issuance audited, attempt limits counted on every request (set high enough never to refuse: the
 * default TOKEN_RATE_LIMIT allows a client 10 tokens a second). BENCH_LOG_LEVEL=warn shows what the
 * access log costs. (b) runs at LOG_LEVEL=warn (BENCH_B_LOG_LEVEL), the level its goal and its recorded
 * figures were measured at: /me is logged at info and /health/live never is.
 *
 *   npm run bench:tokens
 *
 * Needs the PostgreSQL the tests use (TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test):
 * a fresh database is created and migrated, and dropped at the end (also on Ctrl-C; one left by a crash
 * is dropped by a later test run as stale). The app runs in this process on a free loopback port;
 * autocannon runs in a child process so the load generator does not share the app's event loop.
 * Each measure runs BENCH_ROUNDS times (1–9, default 3), interleaved, so a burst of other work on the
 * machine hits both sides of a ratio; medians are reported. Ratios are also given on CPU time per
 * request (all of the app process's threads), which other load on the machine disturbs much less.
 * BENCH_DURATION_S (1–30, default 5) sets each run's length, BENCH_CONNECTIONS (1–100, default 10)
 * the concurrent connections (and the concurrency of the raw signing baseline). BENCH_ONLY (a comma list
 * of measure names: issue, peer, sign, signNode, bare, nestExpress, nestFastify, me, live, jwks) runs a subset,
 * for profiling one side.
 *
 * `bare` is the ceiling of (a) on this machine: a node:http server in this process that does only what
 * no token endpoint can skip (read and parse the form, check a Basic secret's SHA-256, sign the same
 * token with jose, answer JSON), with no framework, no database, no limits, no audit. Under the same
 * autocannon load it shows how much of the raw signing rate any HTTP token endpoint can keep here.
 * `nestExpress` and `nestFastify` do the same in a one-controller NestJS app (bench/minimal-nest-token.ts)
 * on each of Nest's HTTP adapters: the ceiling of (a) for any endpoint built on the framework.
 *
 * The app signs with jose's SignJWT (WebCrypto), like the goal's baseline; the same token signed with
 * node:crypto's one-shot sign in the thread pool is also shown for comparison.
 */
import 'reflect-metadata';
import { spawn, ChildProcess } from 'node:child_process';
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { createWriteStream, WriteStream } from 'node:fs';
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { createPrivateKey, sign as cryptoSign } from 'node:crypto';
import { exportPKCS8, generateKeyPair, SignJWT } from 'jose';
import { PinoLogger } from 'nestjs-pino';
import { DataSource } from 'typeorm';
import { TokenIssuer } from '../src/accounts/auth/token-issuer.service';
import { Organization } from '../src/accounts/organizations/organization.entity';
import { AbilityFactory } from '../src/permissions/ability.factory';
import { ServiceAccountsService } from '../src/accounts/service-accounts/service-accounts.service';
import { UsersService } from '../src/accounts/users/users.service';
import { createApp } from '../src/app.factory';
import type { Principal } from '../src/common/auth/principal';
import { loadSettings } from '../src/config/load-settings';
import { databaseUrl, newRunId, withAdminClient } from '../test/utils/test-databases';
import { basicAuth } from '../test/utils/oauth';
import { minimalNestTokenServer } from './minimal-nest-token';
import { oidcProviderPeer } from './oidc-provider-peer';

const ROOT = join(__dirname, '..');
const AUTOCANNON = join(ROOT, 'node_modules', 'autocannon', 'autocannon.js');
const clamp = (v: unknown, min: number, max: number, dflt: number) => Math.min(max, Math.max(min, Number(v) || dflt));
const DURATION_S = clamp(process.env.BENCH_DURATION_S, 1, 30, 5);
const CONNECTIONS = clamp(process.env.BENCH_CONNECTIONS, 1, 100, 10);
const ROUNDS = clamp(process.env.BENCH_ROUNDS, 1, 9, 3);
/** Our default (every request logged, as in production); BENCH_LOG_LEVEL=warn shows what the access log costs. */
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL || 'info';
/** The level of (b)'s measures (/me, /health/live, the JWKS), as its goal was set at. */
const B_LOG_LEVEL = process.env.BENCH_B_LOG_LEVEL || 'warn';
const WARMUP_S = 2;

interface Run {
  label: string;
  rps: number;
  p50?: number;
  p99?: number;
  total: number;
  bad: number;
  /** App process CPU time (all threads) per request. */
  cpuMsPerRequest?: number;
  /** Share of the run the app's event loop was busy. */
  eventLoopBusy?: number;
}

/** The part of autocannon's JSON result used here. */
interface AutocannonJson {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  '2xx': number;
  non2xx: number;
  errors: number;
  timeouts: number;
}

const children = new Set<ChildProcess>();

function autocannon(
  url: string,
  seconds: number,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<AutocannonJson> {
  const args = [AUTOCANNON, '-j', '-c', String(CONNECTIONS), '-d', String(seconds), '-m', options.method ?? 'GET'];
  for (const [k, v] of Object.entries(options.headers ?? {})) args.push('-H', `${k}=${v}`);
  if (options.body !== undefined) args.push('-b', options.body);
  args.push(url);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    child.once('exit', (code) => {
      children.delete(child);
      if (code !== 0) return reject(new Error(`autocannon exited with ${code}: ${err.slice(-500)}`));
      try {
        resolve(JSON.parse(out) as AutocannonJson);
      } catch {
        reject(new Error(`autocannon printed no JSON: ${out.slice(-500)} ${err.slice(-500)}`));
      }
    });
  });
}

async function httpRun(label: string, url: string, options: Parameters<typeof autocannon>[2] = {}): Promise<Run> {
  const cpu = process.cpuUsage();
  const elu = performance.eventLoopUtilization();
  const r = await autocannon(url, DURATION_S, options);
  const used = process.cpuUsage(cpu);
  return {
    label,
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    total: r.requests.total,
    bad: r.non2xx + r.errors + r.timeouts,
    cpuMsPerRequest: (used.user + used.system) / 1000 / Math.max(1, r.requests.total),
    eventLoopBusy: performance.eventLoopUtilization(elu).utilization,
  };
}

/** Signs tokens for `seconds` with `concurrency` signings in flight. */
async function signingRun(
  label: string,
  concurrency: number,
  sign: () => Promise<string>,
  seconds = DURATION_S,
): Promise<Run> {
  const loop = async (until: number) => {
    let n = 0;
    while (Date.now() < until) {
      await sign();
      n++;
    }
    return n;
  };
  const cpu = process.cpuUsage();
  const started = Date.now();
  const counts = await Promise.all(Array.from({ length: concurrency }, () => loop(started + seconds * 1000)));
  const used = process.cpuUsage(cpu);
  const total = counts.reduce((a, b) => a + b, 0);
  return {
    label,
    rps: total / ((Date.now() - started) / 1000),
    total,
    bad: 0,
    cpuMsPerRequest: (used.user + used.system) / 1000 / Math.max(1, total),
  };
}

/**
 * The least an HTTP token endpoint does: POST only, the form read and parsed, the client's secret
 * checked against its SHA-256 in constant time, a token signed, JSON answered with no-store.
 */
function bareTokenServer(clientId: string, secret: string, sign: () => Promise<string>, ttl: number): Server {
  const secretHash = createHash('sha256').update(secret).digest();
  return createServer((req, res) => {
    const fail = (status: number) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end('{"error":"invalid_request"}');
    };
    if (req.method !== 'POST') return fail(405);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      const basic = Buffer.from((req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString('utf8');
      const colon = basic.indexOf(':');
      const presented = createHash('sha256')
        .update(basic.slice(colon + 1))
        .digest();
      if (
        form.get('grant_type') !== 'client_credentials' ||
        basic.slice(0, colon) !== clientId ||
        !timingSafeEqual(presented, secretHash)
      ) {
        return fail(401);
      }
      sign().then(
        (token) => {
          res
            .writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store', pragma: 'no-cache' })
            .end(JSON.stringify({ access_token: token, token_type: 'bearer', expires_in: ttl }));
        },
        () => fail(500),
      );
    });
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

/** One row from several rounds of the same measure: the round with the median req/s, totals summed. */
function summarize(rounds: Run[]): Run & { rpsRange: string } {
  const mid = [...rounds].sort((a, b) => a.rps - b.rps)[Math.floor((rounds.length - 1) / 2)];
  const cpu = rounds.map((r) => r.cpuMsPerRequest).filter((c): c is number => c !== undefined);
  return {
    ...mid,
    total: rounds.reduce((a, r) => a + r.total, 0),
    bad: rounds.reduce((a, r) => a + r.bad, 0),
    cpuMsPerRequest: cpu.length ? median(cpu) : undefined,
    rpsRange:
      rounds.length > 1
        ? `${Math.min(...rounds.map((r) => r.rps)).toFixed(0)}–${Math.max(...rounds.map((r) => r.rps)).toFixed(0)}`
        : '–',
  };
}

function table(runs: (Run & { rpsRange?: string })[]): string {
  const rows = [
    [
      'Measure',
      'req/s (median)',
      'range',
      'p50 ms',
      'p99 ms',
      'total',
      'non-2xx/errors',
      'CPU ms/req',
      'event loop busy',
    ],
    ...runs.map((r) => [
      r.label,
      r.rps.toFixed(0),
      r.rpsRange ?? '–',
      r.p50?.toString() ?? '–',
      r.p99?.toString() ?? '–',
      String(r.total),
      String(r.bad),
      r.cpuMsPerRequest?.toFixed(2) ?? '–',
      r.eventLoopBusy === undefined ? '–' : `${(r.eventLoopBusy * 100).toFixed(0)} %`,
    ]),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  const line = (row: string[]) =>
    `| ${row.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  return [
    line(rows[0]),
    `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`,
    ...rows.slice(1).map(line),
  ].join('\n');
}

async function main(): Promise<void> {
  const dbName = `ca_test_${newRunId()}_bench`;
  let app: Awaited<ReturnType<typeof createApp>> | undefined;
  let bare: Server | undefined;
  let peer: Server | undefined;
  let logSink: WriteStream | undefined;
  const minimalApps: { close(): Promise<unknown> }[] = [];
  let dropped = false;
  const cleanup = async () => {
    for (const c of children) c.kill('SIGKILL');
    bare?.closeAllConnections();
    bare?.close();
    peer?.closeAllConnections();
    peer?.close();
    for (const minimal of minimalApps.splice(0)) await minimal.close().catch(() => undefined);
    await app?.close().catch(() => undefined);
    app = undefined;
    logSink?.end();
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
    await withAdminClient((c) => c.query(`CREATE DATABASE "${dbName}"`));
    const settings = await loadSettings({
      env: {},
      envFile: '/nonexistent/.env',
      overrides: {
        NODE_ENV: 'production',
        HOST: '127.0.0.1',
        LOG_LEVEL: LOG_LEVEL,
        DATABASE_URL: databaseUrl(dbName),
        MIGRATIONS_RUN: 'true',
        KEY_ENCRYPTION_SECRET: randomBytes(32).toString('base64url'),
        BOOTSTRAP_ADMIN_PASSWORD: randomBytes(24).toString('base64url'),
        // The limits are counted on every request as by default, but set high enough never to refuse:
        // the endpoints are measured, not the attempt limits (the default TOKEN_RATE_LIMIT is 10 a second).
        LOGIN_RATE_LIMIT: '1000000000',
        TOKEN_RATE_LIMIT: '1000000000',
      },
    });
    // The log lines are written as in production (serialized, one write each), to /dev/null instead of a terminal.
    logSink = createWriteStream('/dev/null');
    app = await createApp({ settings, databaseUrl: databaseUrl(dbName), logStream: logSink });
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as AddressInfo;
    const origin = `http://127.0.0.1:${port}`;

    const ds = app.get(DataSource);
    const org = await ds
      .getRepository(Organization)
      .save({ key: `bench-${randomBytes(4).toString('hex')}`, name: 'Benchmark' });
    const staff: Principal = {
      type: 'user',
      id: randomUUID(),
      name: 'bench',
      tokenKind: 'user',
      scopes: [],
      isStaff: true,
      isSupport: false,
    };
    const { account, secret: created } = await app
      .get(ServiceAccountsService)
      .create(staff, await app.get(AbilityFactory).for(staff), { organization: org.id, name: 'bench client' });
    // Registered without keys, so it has a secret.
    const secret = created!;
    const user = await app
      .get(UsersService)
      .insert({ username: `bench-${randomBytes(4).toString('hex')}`, organizationId: org.id });
    const issuer = app.get(TokenIssuer);
    const { token: userToken } = await issuer.userAccessToken(user.id, user.username);

    // Correctness before speed: each measured request must succeed.
    const check = async (path: string, init: RequestInit, base = origin) => {
      const res = await fetch(`${base}${path}`, init);
      if (res.status !== 200)
        throw new Error(`${init.method ?? 'GET'} ${path} answered ${res.status}: ${await res.text()}`);
    };
    const tokenRequest = {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: basicAuth(account.clientId, secret),
      },
      body: 'grant_type=client_credentials',
    };
    await check('/oauth/token', tokenRequest);
    await check('/api/v1/auth/me', { headers: { authorization: `Bearer ${userToken}` } });
    await check('/health/live', {});
    await check('/.well-known/jwks.json', {});

    // An equivalent token: same algorithm, header and claims as a client_credentials token.
    const { privateKey } = await generateKeyPair(settings.JWT_ALG, { extractable: true });
    const kid = randomUUID();
    const claims = {
      iss: issuer.issuer,
      aud: issuer.audience,
      sub: account.id,
      client_id: account.clientId,
      kind: 'service',
      org: org.id,
    };
    const rawSign = () =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: settings.JWT_ALG, kid, typ: 'at+jwt' })
        .setIssuedAt()
        .setExpirationTime(`${settings.SERVICE_TOKEN_TTL_SECONDS}s`)
        .setJti(randomUUID())
        .sign(privateKey);
    // The same token signed with node:crypto's one-shot sign in the thread pool, for comparison.
    const nodeKey = createPrivateKey(await exportPKCS8(privateKey));
    const header = Buffer.from(JSON.stringify({ alg: settings.JWT_ALG, kid, typ: 'at+jwt' })).toString('base64url');
    const nodeSign = () => {
      const iat = Math.floor(Date.now() / 1000);
      const payload = { ...claims, iat, exp: iat + settings.SERVICE_TOKEN_TTL_SECONDS, jti: randomUUID() };
      const input = `${header}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
      const dsa = settings.JWT_ALG === 'ES256' ? { dsaEncoding: 'ieee-p1363' as const } : {};
      return new Promise<string>((resolve, reject) =>
        cryptoSign('sha256', Buffer.from(input), { key: nodeKey, ...dsa }, (e, sig) =>
          e ? reject(e) : resolve(`${input}.${sig.toString('base64url')}`),
        ),
      );
    };

    bare = bareTokenServer(account.clientId, secret, rawSign, settings.SERVICE_TOKEN_TTL_SECONDS);
    await new Promise<void>((resolve) => bare!.listen(0, '127.0.0.1', resolve));
    const bareOrigin = `http://127.0.0.1:${(bare.address() as AddressInfo).port}`;
    await check('/oauth/token', tokenRequest, bareOrigin);
    const minimalOrigin = async (adapter: 'express' | 'fastify') => {
      const minimal = await minimalNestTokenServer(adapter, {
        clientId: account.clientId,
        secret,
        sign: rawSign,
        ttlSeconds: settings.SERVICE_TOKEN_TTL_SECONDS,
      });
      minimalApps.push(minimal);
      const url = `http://127.0.0.1:${(minimal.getHttpServer().address() as AddressInfo).port}`;
      await check('/oauth/token', tokenRequest, url);
      return url;
    };
    const nestExpressOrigin = await minimalOrigin('express');
    const nestFastifyOrigin = await minimalOrigin('fastify');
    // The peer: oidc-provider with a static client of the same id and secret, RS256 JWT access tokens.
    const peerApp = await oidcProviderPeer({
      clientId: account.clientId,
      secret,
      audience: issuer.audience,
      ttlSeconds: settings.SERVICE_TOKEN_TTL_SECONDS,
    });
    peer = peerApp.server;
    const peerOrigin = peerApp.origin;
    await check('/token', tokenRequest, peerOrigin);

    const load = () =>
      loadavg()
        .map((l) => l.toFixed(2))
        .join(' ');
    console.log(
      `Campus Access token benchmark: ${ROUNDS} rounds of ${DURATION_S} s per measure, ${CONNECTIONS} connections, loopback, ${settings.JWT_ALG}, LOG_LEVEL=${LOG_LEVEL} (token endpoint), ${B_LOG_LEVEL} ((b): /me, /health/live, JWKS)`,
    );
    console.log(
      `Machine: ${cpus().length} × ${cpus()[0]?.model.trim()}, Node ${process.version}; load average before: ${load()}`,
    );

    const issueLoad = {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: tokenRequest.headers.authorization,
      },
      body: tokenRequest.body,
    };
    const measures = {
      issue: () => httpRun('POST /oauth/token (client_credentials, Basic)', `${origin}/oauth/token`, issueLoad),
      sign: () => signingRun(`raw jose SignJWT ${settings.JWT_ALG}, ${CONNECTIONS} in flight`, CONNECTIONS, rawSign),
      signNode: () =>
        signingRun(`raw node:crypto sign ${settings.JWT_ALG}, ${CONNECTIONS} in flight`, CONNECTIONS, nodeSign),
      peer: () =>
        httpRun('oidc-provider 9 client_credentials (static client, RS256 JWT)', `${peerOrigin}/token`, issueLoad),
      bare: () => httpRun('bare node:http token server (jose, no framework)', `${bareOrigin}/oauth/token`, issueLoad),
      nestExpress: () =>
        httpRun('minimal NestJS token route, Express adapter', `${nestExpressOrigin}/oauth/token`, issueLoad),
      nestFastify: () =>
        httpRun('minimal NestJS token route, Fastify adapter', `${nestFastifyOrigin}/oauth/token`, issueLoad),
      me: () =>
        httpRun('GET /api/v1/auth/me (valid user token)', `${origin}/api/v1/auth/me`, {
          headers: { authorization: `Bearer ${userToken}` },
        }),
      live: () => httpRun('GET /health/live (no auth)', `${origin}/health/live`),
      // For reading the gap in (b): a public route with the usual request logging and metrics but no token and no database.
      jwks: () => httpRun('GET /.well-known/jwks.json (public, no database)', `${origin}/.well-known/jwks.json`),
    };
    const warmUp: Record<keyof typeof measures, () => Promise<unknown>> = {
      issue: () => autocannon(`${origin}/oauth/token`, WARMUP_S, issueLoad),
      sign: () => signingRun('warm-up', CONNECTIONS, rawSign, WARMUP_S),
      signNode: () => signingRun('warm-up', CONNECTIONS, nodeSign, WARMUP_S),
      peer: () => autocannon(`${peerOrigin}/token`, WARMUP_S, issueLoad),
      bare: () => autocannon(`${bareOrigin}/oauth/token`, WARMUP_S, issueLoad),
      nestExpress: () => autocannon(`${nestExpressOrigin}/oauth/token`, WARMUP_S, issueLoad),
      nestFastify: () => autocannon(`${nestFastifyOrigin}/oauth/token`, WARMUP_S, issueLoad),
      me: () => autocannon(`${origin}/api/v1/auth/me`, WARMUP_S, { headers: { authorization: `Bearer ${userToken}` } }),
      live: () => autocannon(`${origin}/health/live`, WARMUP_S),
      jwks: () => autocannon(`${origin}/.well-known/jwks.json`, WARMUP_S),
    };
    type Name = keyof typeof measures;
    const only = (process.env.BENCH_ONLY ?? '')
      .split(',')
      .map((n) => n.trim())
      .filter(Boolean);
    const unknown = only.filter((n) => !(n in measures));
    if (unknown.length) throw new Error(`BENCH_ONLY names unknown measures: ${unknown.join(', ')}`);
    const names = (Object.keys(measures) as Name[]).filter((n) => !only.length || only.includes(n));
    const has = (...ns: Name[]) => ns.every((n) => names.includes(n));
    // Warm-up: JIT, connection pools, key caches (of the measures that run).
    // (b) keeps the log level its goal and its recorded figures were measured at (/me is logged at info,
    // /health/live never is); the token endpoint runs at the default level.
    const levelOf = (name: Name) => (['me', 'live', 'jwks'].includes(name) ? B_LOG_LEVEL : LOG_LEVEL);
    const atLevel = (name: Name) => {
      PinoLogger.root.level = levelOf(name);
    };
    for (const name of names) {
      atLevel(name);
      await warmUp[name]();
    }

    const rounds: Record<Name, Run>[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const round = {} as Record<Name, Run>;
      for (const name of names) {
        atLevel(name);
        round[name] = await measures[name]();
      }
      rounds.push(round);
      console.log(`round ${i + 1}/${ROUNDS}: ${names.map((n) => `${n} ${round[n].rps.toFixed(0)}/s`).join(', ')}`);
    }
    const sequential = has('sign')
      ? await signingRun(`raw jose SignJWT ${settings.JWT_ALG}, one at a time`, 1, rawSign)
      : undefined;
    const row = Object.fromEntries(names.map((n) => [n, summarize(rounds.map((r) => r[n]))])) as Record<
      Name,
      ReturnType<typeof summarize>
    >;

    const order: Name[] = [
      'issue',
      'peer',
      'bare',
      'nestExpress',
      'nestFastify',
      'sign',
      'signNode',
      'me',
      'live',
      'jwks',
    ];
    const shown = order.filter((n) => row[n]).map((n) => row[n] as Run);
    if (sequential) shown.splice(shown.indexOf(row.sign) + 1, 0, sequential);
    console.log(`\n${table(shown)}\n`);
    console.log(`Load average after: ${load()}\n`);
    const pct = (x: number) => `${(x * 100).toFixed(0)} %`;
    const verdict = (x: number, goal: number) => `${pct(x)} (goal ≥ ${pct(goal)}: ${x >= goal ? 'met' : 'NOT met'})`;
    const ratios = (a: Name, b: Name) => rounds.map((r) => r[a].rps / r[b].rps);
    const range = (xs: number[]) => (xs.length > 1 ? `; rounds ${xs.map(pct).join(', ')}` : '');
    if (has('issue', 'sign')) {
      const a = ratios('issue', 'sign');
      console.log(`(a) token endpoint / raw jose signing, req/s:      ${verdict(median(a), 0.5)}${range(a)}`);
      console.log(
        `    the same on CPU time per token:                ${pct(row.sign.cpuMsPerRequest! / row.issue.cpuMsPerRequest!)}`,
      );
      if (sequential)
        console.log(`    token endpoint / raw jose signing one at a time: ${pct(row.issue.rps / sequential.rps)}`);
    }
    if (has('issue', 'peer')) {
      const c = ratios('issue', 'peer');
      console.log(
        `(c) token endpoint / oidc-provider 9, tokens/s:    ${pct(median(c))} (goal ≥ 100 %: ${median(c) >= 1 ? 'met' : 'NOT met'})${range(c)}`,
      );
      console.log(
        `    CPU ms per token: ours ${row.issue.cpuMsPerRequest!.toFixed(3)}, oidc-provider ${row.peer.cpuMsPerRequest!.toFixed(3)}; p99 ms: ours ${row.issue.p99}, oidc-provider ${row.peer.p99}`,
      );
    }
    if (has('bare', 'sign')) {
      const c = ratios('bare', 'sign');
      console.log(`    ceiling here: bare node:http token server / raw jose signing: ${pct(median(c))}${range(c)}`);
      if (has('issue'))
        console.log(`    token endpoint / that bare server:              ${pct(median(ratios('issue', 'bare')))}`);
    }
    for (const [name, adapter] of [
      ['nestExpress', 'Express'],
      ['nestFastify', 'Fastify'],
    ] as const) {
      if (!has(name, 'sign')) continue;
      const c = ratios(name, 'sign');
      console.log(
        `    ceiling for NestJS (${adapter}): minimal token route / raw jose signing: ${pct(median(c))}${range(c)}`,
      );
      if (name === 'nestExpress' && has('issue')) {
        console.log(`    token endpoint / that minimal route (same adapter): ${pct(median(ratios('issue', name)))}`);
      }
    }
    if (has('issue', 'signNode')) {
      const a = ratios('issue', 'signNode');
      console.log(`    token endpoint / raw node:crypto signing, req/s: ${pct(median(a))}${range(a)}`);
    }
    if (has('me', 'live')) {
      const b = ratios('me', 'live');
      console.log(`(b) /api/v1/auth/me / /health/live, req/s:        ${verdict(median(b), 0.4)}${range(b)}`);
      console.log(
        `    the same on CPU time per request:              ${pct(row.live.cpuMsPerRequest! / row.me.cpuMsPerRequest!)}`,
      );
    }
    if (has('jwks', 'live')) {
      console.log(
        `    /.well-known/jwks.json / /health/live:         ${pct(row.jwks.rps / row.live.rps)} (an ordinary public route: request logging, metrics, routing; no token, no database)`,
      );
    }
    const bad = [row.issue, row.peer, row.me, row.live, row.nestExpress, row.nestFastify].filter((r) => r && r.bad > 0);
    if (bad.length) {
      console.log(
        `\nWARNING: failed responses in ${bad.map((r) => r.label).join(', ')}; the figures above include them.`,
      );
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
