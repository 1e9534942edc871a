/**
 * LTI Advantage speed (`npm run bench:lti-advantage`), in one process against the platform
 * services simulator (test/utils/lti-services-platform.ts) over real HTTP:
 *   1. scores posted through `POST /api/v1/lti/links/{id}/scores` (BENCH_SCORES, BENCH_IN_FLIGHT
 *      requests in flight) until every one is delivered by its job, with the platform token cached;
 *   2. a roster of BENCH_ROSTER members synced (NRPS, pages of 500): time, and SQL statements per
 *      member, for the first sync (everyone new) and a second one (nothing changed).
 * Figures go to bench/README.md.
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { PostgresQueryRunner } from 'typeorm/driver/postgres/PostgresQueryRunner';
import { createApp } from '../src/app.factory';
import { loadSettings } from '../src/config/load-settings';
import { dataSourceOptions } from '../src/database/data-source-options';
import { LtiRosterRepository } from '../src/lti/services/nrps/lti-roster.repository';
import { RosterSync } from '../src/lti/services/nrps/roster-sync';
import { createOrganization, createStaff } from '../test/factories/accounts';
import { launchAndExchange, TOOL_URL } from '../test/utils/lti-launch';
import { ROLE, startLtiPlatform } from '../test/utils/lti-platform';
import { AGS_CLAIM, NRPS_CLAIM, SimMember, startLtiServicesPlatform } from '../test/utils/lti-services-platform';
import { databaseUrl, withAdminClient } from '../test/utils/test-databases';
import type { TestApp } from '../test/utils/test-app';

const clamp = (v: unknown, min: number, max: number, dflt: number) =>
  Math.min(max, Math.max(min, Math.round(Number(v)) || dflt));
const SCORES = clamp(process.env.BENCH_SCORES, 10, 100_000, 1000);
const IN_FLIGHT = clamp(process.env.BENCH_IN_FLIGHT, 1, 100, 10);
const ROSTER = clamp(process.env.BENCH_ROSTER, 10, 100_000, 5000);
const BACKGROUND = /\b(jobs|job_artifacts|signing_keys|lti_logins)\b/;

const seconds = (from: bigint) => Number(process.hrtime.bigint() - from) / 1e9;

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function main(): Promise<void> {
  const name = `ca_bench_ltiadv_${Math.floor(Date.now() / 1000)}_${randomUUID().slice(0, 6)}`;
  await withAdminClient((c) => c.query(`CREATE DATABASE "${name}"`));
  const url = databaseUrl(name);
  const artifacts = mkdtempSync(join(tmpdir(), 'ca-bench-'));
  const migrate = new DataSource(dataSourceOptions({ url, poolSize: 1 }));
  await migrate.initialize();
  await migrate.runMigrations({ transaction: 'each' });
  await migrate.destroy();
  const settings = await loadSettings({
    env: {},
    envFile: '/nonexistent/.env',
    overrides: {
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      MIGRATIONS_RUN: 'false',
      DATABASE_URL: url,
      PUBLIC_URL: TOOL_URL,
      JOB_ARTIFACT_DIR: artifacts,
      JOB_SWEEP_INTERVAL_MS: '0',
    },
  });
  const app = await createApp({ settings, databaseUrl: url });
  await app.init();
  await new Promise<void>((resolve) => app.getHttpServer().listen(0, '127.0.0.1', () => resolve()));
  const t = { app, http: request(app.getHttpServer()), settings } as unknown as TestApp;
  const db = app.get(DataSource);
  const lms = await startLtiPlatform();
  const services = await startLtiServicesPlatform({
    clientId: lms.clientId,
    toolJwks: async () => (await t.http.get('/lti/jwks.json')).body,
    pageSize: 500,
    rejectOlderScores: false,
  });
  try {
    const staff = await createStaff(t);
    const org = await createOrganization(t);
    const reg = await t.http
      .post('/api/v1/lti/platforms')
      .set(staff.auth)
      .send(lms.registration(org.id, { auth_token_url: services.tokenUrl }));
    if (reg.status !== 201) throw new Error(`registration: ${reg.status}`);

    // ── 1. scores ──
    const claims = { [AGS_CLAIM]: services.agsClaim('ctx-bench', { lineitem: true }) };
    const resourceLink = { id: 'rl-bench', title: 'Bench lab' };
    const instructor = (
      await launchAndExchange(t, lms, { roles: [ROLE.instructor], context: { id: 'ctx-bench' }, resourceLink, claims })
    ).session as unknown as { access_token: string; link: string };
    const learner = (
      await launchAndExchange(t, lms, { roles: [ROLE.learner], context: { id: 'ctx-bench' }, resourceLink, claims })
    ).session as unknown as { user: { id: string } };
    const auth = { Authorization: `Bearer ${instructor.access_token}` };
    const post = async (n: number) => {
      const res = await t.http
        .post(`/api/v1/lti/links/${instructor.link}/scores`)
        .set(auth)
        .send({
          user: learner.user.id,
          score_given: n % 10,
          score_maximum: 10,
          activity_progress: 'Completed',
          grading_progress: 'FullyGraded',
        });
      if (res.status !== 202) throw new Error(`score: ${res.status} ${JSON.stringify(res.body)}`);
    };
    const delivered = async () =>
      Number((await db.query(`SELECT count(*)::int AS n FROM lti_scores WHERE state = 'delivered'`))[0].n);
    const run = async (count: number) => {
      const base = await delivered();
      const start = process.hrtime.bigint();
      let next = 0;
      await Promise.all(
        Array.from({ length: IN_FLIGHT }, async () => {
          while (next < count) await post(next++);
        }),
      );
      const accepted = seconds(start);
      await until(async () => (await delivered()) >= base + count, 'scores delivered');
      return { accepted, total: seconds(start) };
    };
    await run(50); // warm-up: connections, plans, the platform token
    const tokensBefore = services.tokenRequests;
    const scores = await run(SCORES);
    const failed = Number(
      (await db.query(`SELECT count(*)::int AS n FROM lti_scores WHERE state <> 'delivered'`))[0].n,
    );
    console.log(
      `Scores: ${SCORES} through POST /api/v1/lti/links/{id}/scores, ${IN_FLIGHT} in flight: ` +
        `${(SCORES / scores.accepted).toFixed(0)}/s accepted (202), ${(SCORES / scores.total).toFixed(0)}/s delivered ` +
        `(${scores.total.toFixed(2)} s); token requests during the run: ${services.tokenRequests - tokensBefore}; not delivered: ${failed}`,
    );

    // ── 2. roster ──
    const rosterInstructor = (
      await launchAndExchange(t, lms, {
        sub: 'roster-teacher',
        roles: [ROLE.instructor],
        context: { id: 'ctx-roster' },
        claims: { [NRPS_CLAIM]: services.nrpsClaim('ctx-roster') },
      })
    ).session as unknown as { context: string };
    const members: SimMember[] = [{ user_id: 'roster-teacher', roles: [ROLE.instructor] }];
    for (let i = 0; i < ROSTER - 1; i++)
      members.push({
        user_id: `member-${i}`,
        roles: [i % 50 === 0 ? ROLE.teachingAssistant : ROLE.learner],
        given_name: `Given${i}`,
        family_name: `Family${i}`,
        email: `member${i}@example.edu`,
      });
    services.setRoster('ctx-roster', members);
    const repo = app.get(LtiRosterRepository);
    const context = (await repo.findContext(rosterInstructor.context))!;
    const membershipsUrl = (await repo.membershipsUrl(context.id, context.platformId))!;
    const original = PostgresQueryRunner.prototype.query;
    let statements = 0;
    PostgresQueryRunner.prototype.query = function (this: PostgresQueryRunner, ...args: Parameters<typeof original>) {
      if (!BACKGROUND.test(args[0])) statements++;
      return original.apply(this, args);
    };
    const sync = async (label: string) => {
      statements = 0;
      const start = process.hrtime.bigint();
      const summary = await app.get(RosterSync).sync(context, membershipsUrl);
      const took = seconds(start);
      console.log(
        `Roster ${label}: ${ROSTER} members in ${took.toFixed(2)} s (${(ROSTER / took).toFixed(0)} members/s), ` +
          `${statements} statements = ${(statements / ROSTER).toFixed(2)} per member; ${JSON.stringify(summary)}`,
      );
    };
    await sync('first sync (all new)');
    await sync('second sync (unchanged)');
    PostgresQueryRunner.prototype.query = original;
  } finally {
    await services.close();
    await lms.close();
    await app.close();
    rmSync(artifacts, { recursive: true, force: true });
    await withAdminClient((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).catch(() => undefined);
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
