/**
 * Cost of permissions on the hot path, each against a baseline measured in the same run:
 *
 *   (a) a scoped page of projects (50 of 10,000 in 100 organizations, the caller sees 50 through
 *       groups): SQL statements issued (must be exactly 1) and median latency
 *       vs the same page read with no scoping
 *   (b) building the ability of a request: AbilityFactory.for() (one membership query + CASL)
 *       and buildAbility() alone, in microseconds
 *
 *   npm run bench:permissions
 *
 * Needs the PostgreSQL the tests use (TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test):
 * a fresh database is created, migrated and dropped at the end (also on Ctrl-C; one left by a crash
 * is dropped by a later test run as stale). BENCH_ITERATIONS (50–5000, default 500) sets the samples
 * per measure.
 */
import 'reflect-metadata';
import type { PinoLogger } from 'nestjs-pino';
import { DataSource } from 'typeorm';
import { PrincipalLookup, userPrincipal } from '../src/accounts/auth/principal-lookup';
import type { Principal } from '../src/common/auth/principal';
import type { Settings } from '../src/config/settings.schema';
import { dataSourceOptions } from '../src/database/data-source-options';
import { AppAbility, buildAbility } from '../src/permissions/ability';
import { AbilityFactory } from '../src/permissions/ability.factory';
import { CountingLogger } from '../test/permissions/counting-logger';
import { projectPage, projectPageQuery } from '../test/permissions/project-list';
import { databaseUrl, newRunId, withAdminClient } from '../test/utils/test-databases';

const ORGANIZATIONS = 100;
const PROJECTS_PER_ORGANIZATION = 100;
const VISIBLE = 50;
const PAGE = { offset: 0, limit: 50 };
const ITERATIONS = Math.min(5000, Math.max(50, Number(process.env.BENCH_ITERATIONS ?? 500) || 500));

const quietLogger = { setContext: () => undefined, warn: () => undefined } as unknown as PinoLogger;

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Microseconds per call of `work`, `ITERATIONS` times after a warm-up. */
async function sample(work: () => Promise<unknown> | unknown): Promise<number[]> {
  for (let i = 0; i < Math.min(50, ITERATIONS); i++) await work();
  const out: number[] = [];
  for (let i = 0; i < ITERATIONS; i++) {
    const start = process.hrtime.bigint();
    await work();
    out.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  return out;
}

/** 100 organizations × 100 projects; everybody else's groups too, so the membership index has work to do. */
async function seed(ds: DataSource): Promise<Principal> {
  await ds.query(
    `INSERT INTO organizations (key, name) SELECT 'org-' || g, 'Organization ' || g FROM generate_series(1, ${ORGANIZATIONS}) g`,
  );
  await ds.query(`
    INSERT INTO projects (organization_id, key, name)
    SELECT o.id, 'p-' || g, o.name || ' project ' || g FROM organizations o CROSS JOIN generate_series(1, ${PROJECTS_PER_ORGANIZATION}) g`);
  // One member group per project, with three other members each.
  await ds.query(`
    INSERT INTO groups (organization_id, name, scope_type, scope_id, role)
    SELECT organization_id, 'Members of ' || key, 'project', id, 'project_member' FROM projects`);
  await ds.query(`
    INSERT INTO group_memberships (group_id, principal_type, principal_id)
    SELECT g.id, 'user', gen_random_uuid() FROM groups g CROSS JOIN generate_series(1, 3)`);

  const [user] = await ds.query(`INSERT INTO users (username) VALUES ('bench-user') RETURNING id`);
  // The user sees 50 projects spread over the organizations: 45 as a member, 5 as a manager…
  const chosen: { id: string; organization_id: string }[] = await ds.query(
    `SELECT id, organization_id FROM projects ORDER BY md5(id::text) LIMIT ${VISIBLE}`,
  );
  for (const [i, p] of chosen.entries()) {
    const role = i < 5 ? 'project_manager' : 'project_member';
    await addMembership(ds, user.id, p.organization_id, 'project', p.id, role, null);
  }
  // …while 20 expired memberships and 3 organization roles that do not read projects add nothing.
  const expired: { id: string; organization_id: string }[] = await ds.query(
    `SELECT id, organization_id FROM projects ORDER BY md5(id::text) DESC LIMIT 20`,
  );
  for (const p of expired)
    await addMembership(
      ds,
      user.id,
      p.organization_id,
      'project',
      p.id,
      'project_manager',
      new Date(Date.now() - 86_400_000),
    );
  const orgs: { id: string }[] = await ds.query('SELECT id FROM organizations ORDER BY key LIMIT 3');
  for (const o of orgs) await addMembership(ds, user.id, o.id, 'organization', o.id, 'organization_read_reports', null);
  await ds.query('ANALYZE');
  return {
    type: 'user',
    id: user.id,
    name: 'bench-user',
    tokenKind: 'user',
    scopes: [],
    isStaff: false,
    isSupport: false,
  };
}

async function addMembership(
  ds: DataSource,
  userId: string,
  organizationId: string,
  scopeType: string,
  scopeId: string,
  role: string,
  expiresAt: Date | null,
) {
  const [group] = await ds.query(
    'INSERT INTO groups (organization_id, name, scope_type, scope_id, role) VALUES ($1, $2, $3, $4, $2) RETURNING id',
    [organizationId, role, scopeType, scopeId],
  );
  await ds.query(
    'INSERT INTO group_memberships (group_id, principal_type, principal_id, expires_at) VALUES ($1, $2, $3, $4)',
    [group.id, 'user', userId, expiresAt],
  );
}

const fmt = (us: number) => (us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(1)} µs`);

async function main(): Promise<void> {
  const dbName = `ca_test_${newRunId()}_bench`;
  const drop = () => withAdminClient((c) => c.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`));
  process.once('SIGINT', () => {
    void drop().finally(() => process.exit(130));
  });
  await withAdminClient((c) => c.query(`CREATE DATABASE "${dbName}"`));
  const log = new CountingLogger();
  const ds = new DataSource({ ...dataSourceOptions({ url: databaseUrl(dbName), poolSize: 4 }), logger: log });
  try {
    await ds.initialize();
    await ds.runMigrations({ transaction: 'each' });
    const principal = await seed(ds);
    const factory = new AbilityFactory(ds, quietLogger);

    // (a) the scoped page: one statement, the right rows.
    const ability: AppAbility = await factory.for(principal);
    const { result, queries } = await log.during(() => projectPage(ds, ability, PAGE));
    if (queries.length !== 1)
      throw new Error(
        `the scoped project page issued ${queries.length} SQL statements, expected 1:\n${queries.join('\n')}`,
      );
    if (result.count !== VISIBLE || result.rows.length !== VISIBLE)
      throw new Error(`the scoped page shows ${result.count} projects, expected ${VISIBLE}`);
    const unscopedCheck = await projectPage(ds, null, PAGE);
    if (unscopedCheck.count !== ORGANIZATIONS * PROJECTS_PER_ORGANIZATION)
      throw new Error('unexpected number of projects');

    // Interleave the two reads so that drift (caches, autovacuum) hits both alike.
    const scoped: number[] = [];
    const unscoped: number[] = [];
    await sample(async () => {
      const s0 = process.hrtime.bigint();
      await projectPage(ds, ability, PAGE);
      const s1 = process.hrtime.bigint();
      await projectPage(ds, null, PAGE);
      const s2 = process.hrtime.bigint();
      scoped.push(Number(s1 - s0) / 1000);
      unscoped.push(Number(s2 - s1) / 1000);
    });
    scoped.splice(0, Math.min(50, ITERATIONS));
    unscoped.splice(0, Math.min(50, ITERATIONS));

    // (b) the ability of one request.
    const grants = await factory.grantsOf(principal);
    const forRequest = await sample(() => factory.for(principal));
    const build = await sample(() => buildAbility(principal, grants));
    const staff = await sample(() => factory.for({ ...principal, isStaff: true }));
    const membershipQuery = await sample(() => factory.grantsOf(principal));
    const roundTrip = await sample(() => ds.query('SELECT 1'));
    // What a request does: the principal lookup reads the user and its grants in one prepared statement,
    // and the ability is built from them with no query of its own.
    const lookup = new PrincipalLookup(ds, { DATABASE_PREPARED_STATEMENTS: true } as Settings);
    const viaLookup = async () => {
      const user = await lookup.user(principal.id);
      if (user?.grants.length !== grants.length) throw new Error('the principal lookup read different grants');
      return factory.for(userPrincipal(user, []));
    };
    const perRequest = await sample(viaLookup);

    const rows: [string, string, string][] = [
      ['Scoped page (50 of 10,000 projects), SQL statements', String(queries.length), 'exactly 1'],
      ['Scoped page, median latency', fmt(median(scoped)), ''],
      ['Same page unscoped (baseline), median latency', fmt(median(unscoped)), ''],
      ['  ratio scoped / unscoped', `${(median(scoped) / median(unscoped)).toFixed(2)}×`, ''],
      [
        'Ability per request: AbilityFactory.for() (1 query + build)',
        fmt(median(forRequest)),
        `${grants.length} live grants`,
      ],
      ['  of which the membership query', fmt(median(membershipQuery)), ''],
      ['    database round trip (SELECT 1), for comparison', fmt(median(roundTrip)), ''],
      ['  of which buildAbility() (CASL, no I/O)', fmt(median(build)), ''],
      ['Ability of a staff user (no query)', fmt(median(staff)), ''],
      [
        'A request: principal lookup with its grants (1 prepared statement) + build',
        fmt(median(perRequest)),
        'what every authenticated request pays',
      ],
      ['  ratio ability / unscoped page', `${(median(forRequest) / median(unscoped)).toFixed(2)}×`, ''],
    ];
    const width = Math.max(...rows.map((r) => r[0].length));
    console.log(
      `\nPermissions benchmark — ${ORGANIZATIONS * PROJECTS_PER_ORGANIZATION} projects in ${ORGANIZATIONS} organizations, medians of ${ITERATIONS} samples\n`,
    );
    for (const [name, value, note] of rows) console.log(`${name.padEnd(width)}  ${value.padStart(10)}  ${note}`);
    const [sql, params] = projectPageQuery(ds, ability, PAGE).getQueryAndParameters();
    const plan: { 'QUERY PLAN': string }[] = await ds.query(`EXPLAIN ${sql}`, params);
    console.log(
      `\nPlan of the scoped page:\n${plan.map((r) => `  ${r['QUERY PLAN'].replace(/'\{[^}]*\}'/g, "'{…}'")}`).join('\n')}\n`,
    );
  } finally {
    if (ds.isInitialized) await ds.destroy();
    await drop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
