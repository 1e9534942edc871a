import { createMongoAbility, RawRuleOf } from '@casl/ability';
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import type { PinoLogger } from 'nestjs-pino';
import { DataSource } from 'typeorm';
import { PrincipalLookup } from '../../src/accounts/auth/principal-lookup';
import type { Principal } from '../../src/common/auth/principal';
import type { Settings } from '../../src/config/settings.schema';
import { AppAbility, asSubject } from '../../src/permissions/ability';
import { AbilityFactory } from '../../src/permissions/ability.factory';
import { abilityToSql } from '../../src/permissions/ability-to-sql';
import { ROLES } from '../../src/permissions/roles';
import type { ScopeType, SubjectType } from '../../src/permissions/subjects';
import { CountingLogger, countingDataSource } from '../permissions/counting-logger';
import { projectPage } from '../permissions/project-list';
import { createTestDatabase } from '../utils/test-databases';

const quietLogger = { setContext: () => undefined, warn: () => undefined } as unknown as PinoLogger;
const user = (id: string, over: Partial<Principal> = {}): Principal => ({
  type: 'user',
  id,
  name: id,
  tokenKind: 'user',
  scopes: [],
  isStaff: false,
  isSupport: false,
  ...over,
});

describe('Abilities on real PostgreSQL', () => {
  let ds: DataSource;
  let log: CountingLogger;
  let factory: AbilityFactory;

  beforeAll(async () => {
    ({ ds, log } = await countingDataSource((await createTestDatabase()).url));
    factory = new AbilityFactory(ds, quietLogger);
  });
  afterAll(() => ds.destroy());

  async function organization(): Promise<string> {
    const [row] = await ds.query('INSERT INTO organizations (key, name) VALUES ($1, $1) RETURNING id', [
      `org-${randomUUID()}`,
    ]);
    return row.id;
  }
  async function project(organizationId: string): Promise<string> {
    const [row] = await ds.query('INSERT INTO projects (organization_id, key, name) VALUES ($1, $2, $2) RETURNING id', [
      organizationId,
      `p-${randomUUID()}`,
    ]);
    return row.id;
  }
  async function grant(
    principal: Pick<Principal, 'type' | 'id'>,
    role: string,
    scopeType: ScopeType,
    scopeId: string,
    organizationId: string,
    expiresAt: Date | null = null,
  ) {
    const [group] = await ds.query(
      'INSERT INTO groups (organization_id, name, scope_type, scope_id, role) VALUES ($1, $2, $3, $4, $2) RETURNING id',
      [organizationId, role, scopeType, scopeId],
    );
    await ds.query(
      'INSERT INTO group_memberships (group_id, principal_type, principal_id, expires_at) VALUES ($1, $2, $3, $4)',
      [group.id, principal.type, principal.id, expiresAt],
    );
    return group.id as string;
  }

  it('loads the memberships in one query, and an expired membership grants nothing', async () => {
    const org = await organization();
    const [live, expired, later] = [await project(org), await project(org), await project(org)];
    const who = user(randomUUID());
    await grant(who, 'project_member', 'project', live, org);
    await grant(who, 'project_manager', 'project', expired, org, new Date(Date.now() - 1000));
    await grant(who, 'project_manager', 'project', later, org, new Date(Date.now() + 60_000));

    const { result: ability, queries } = await log.during(() => factory.for(who));
    expect(queries).toHaveLength(1);
    expect(ability.can('read', asSubject('Project', { id: live, organizationId: org }))).toBe(true);
    expect(ability.can('read', asSubject('Project', { id: expired, organizationId: org }))).toBe(false);
    expect(ability.can('update', asSubject('Project', { id: later, organizationId: org }))).toBe(true);
    expect(ability.can('update', asSubject('Project', { id: live, organizationId: org }))).toBe(false);
  });

  it('builds a staff ability without a query', async () => {
    const { queries } = await log.during(() => factory.for(user(randomUUID(), { isStaff: true })));
    expect(queries).toHaveLength(0);
  });

  it('reads a scoped page of projects in exactly one SQL query', async () => {
    const orgs = [await organization(), await organization()];
    const projects = [];
    for (let i = 0; i < 12; i++) projects.push(await project(orgs[i % 2]));
    const who = user(randomUUID());
    for (const p of projects.slice(0, 3)) await grant(who, 'project_member', 'project', p, orgs[0]);
    await grant(who, 'organization_read_metadata', 'organization', orgs[1], orgs[1]);
    const ability = await factory.for(who);

    const { result, queries } = await log.during(() => projectPage(ds, ability, { offset: 0, limit: 50 }));
    expect(queries).toHaveLength(1);
    // organization_read_metadata does not read projects; the three project memberships do.
    expect(result.rows.map((r) => r.id).sort()).toEqual(projects.slice(0, 3).sort());
    expect(result.count).toBe(3);
  });

  /**
   * For random organizations, projects, users, groups and memberships (live and expired), the rows a
   * scoped SQL query returns are exactly the rows the CASL ability allows when asked one by one.
   */
  it('scopes SQL exactly as the ability decides object by object (property)', async () => {
    const scopeTypes: ScopeType[] = ['organization', 'program', 'project'];
    const world = fc.record({
      orgCount: fc.integer({ min: 1, max: 3 }),
      projects: fc.array(fc.nat(), { minLength: 1, maxLength: 6 }),
      users: fc.array(fc.option(fc.nat(), { nil: null }), { minLength: 2, maxLength: 4 }),
      services: fc.array(fc.nat(), { minLength: 1, maxLength: 2 }),
      groups: fc.array(
        fc.record({
          scopeType: fc.constantFrom(...scopeTypes),
          scopeIndex: fc.nat(),
          roleIndex: fc.nat(),
          members: fc.array(fc.record({ principal: fc.nat(), expiry: fc.constantFrom('none', 'past', 'future') }), {
            maxLength: 4,
          }),
        }),
        { maxLength: 8 },
      ),
      asked: fc.record({ principal: fc.nat(), flag: fc.constantFrom('none', 'none', 'none', 'support', 'staff') }),
    });

    await fc.assert(
      fc.asyncProperty(world, async (w) => {
        const orgs: string[] = [];
        for (let i = 0; i < w.orgCount; i++) orgs.push(await organization());
        const projects: { id: string; org: string }[] = [];
        for (const n of w.projects) {
          const org = orgs[n % orgs.length];
          projects.push({ id: await project(org), org });
        }
        const programs = orgs.map((org) => ({ id: randomUUID(), org }));
        const principals: Principal[] = [];
        for (const n of w.users) {
          const org = n === null ? null : orgs[n % orgs.length];
          const [row] = await ds.query('INSERT INTO users (username, organization_id) VALUES ($1, $2) RETURNING id', [
            `u-${randomUUID()}`,
            org,
          ]);
          principals.push(user(row.id));
        }
        for (const n of w.services) {
          principals.push({
            ...user(randomUUID()),
            type: 'service_account',
            tokenKind: 'service',
            organizationId: orgs[n % orgs.length],
          });
        }
        for (const g of w.groups) {
          const scopes =
            g.scopeType === 'organization'
              ? orgs.map((o) => ({ id: o, org: o }))
              : g.scopeType === 'project'
                ? projects
                : programs;
          const scope = scopes[g.scopeIndex % scopes.length];
          const roles = ROLES.filter((r) => r.scopeType === g.scopeType);
          const [group] = await ds.query(
            'INSERT INTO groups (organization_id, name, scope_type, scope_id, role) VALUES ($1, $2, $3, $4, $2) RETURNING id',
            [scope.org, roles[g.roleIndex % roles.length].name, g.scopeType, scope.id],
          );
          for (const m of g.members) {
            const p = principals[m.principal % principals.length];
            const expiresAt =
              m.expiry === 'none' ? null : new Date(Date.now() + (m.expiry === 'past' ? -60_000 : 60_000));
            await ds.query(
              'INSERT INTO group_memberships (group_id, principal_type, principal_id, expires_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
              [group.id, p.type, p.id, expiresAt],
            );
          }
        }

        const base = principals[w.asked.principal % principals.length];
        const asked =
          base.type === 'user'
            ? { ...base, isStaff: w.asked.flag === 'staff', isSupport: w.asked.flag === 'support' }
            : base;
        const ability = await factory.for(asked);

        const tables: { subject: SubjectType; sql: string; fields: (r: Record<string, string | null>) => object }[] = [
          {
            subject: 'Organization',
            sql: 'SELECT o.id FROM organizations o WHERE o.id = ANY(:orgs)',
            fields: (r) => ({ id: r.id }),
          },
          {
            subject: 'Project',
            sql: 'SELECT p.id, p.organization_id FROM projects p WHERE p.organization_id = ANY(:orgs)',
            fields: (r) => ({ id: r.id, organizationId: r.organization_id }),
          },
          {
            subject: 'User',
            sql: 'SELECT u.id, u.organization_id FROM users u WHERE u.id = ANY(:userIds)',
            fields: (r) => ({ id: r.id, organizationId: r.organization_id }),
          },
          {
            subject: 'Group',
            sql: 'SELECT g.id, g.organization_id, g.scope_type, g.scope_id FROM groups g WHERE g.organization_id = ANY(:orgs)',
            fields: (r) => ({
              id: r.id,
              organizationId: r.organization_id,
              scopeType: r.scope_type,
              scopeId: r.scope_id,
            }),
          },
        ];
        const userIds = principals.filter((p) => p.type === 'user').map((p) => p.id);
        for (const { subject, sql, fields } of tables) {
          const alias = sql.split(' ')[1].split('.')[0];
          const run = (text: string, params: Record<string, unknown>) =>
            ds.query(...ds.driver.escapeQueryWithParameters(text, { ...params, orgs, userIds }, {}));
          const all: Record<string, string | null>[] = await run(sql, {});
          for (const action of ['read', 'update', 'delete', 'manage_members', 'read_metadata']) {
            const expected = all.filter((r) => ability.can(action, asSubject(subject, fields(r)))).map((r) => r.id);
            const { sql: where, params } = abilityToSql(ability, action, subject, alias);
            const scoped: { id: string }[] = await run(`${sql} AND (${where})`, params);
            expect({ subject, action, ids: scoped.map((r) => r.id).sort() }).toEqual({
              subject,
              action,
              ids: expected.sort(),
            });
          }
        }
      }),
      { numRuns: 40 },
    );
  });

  /** The translation itself, over rules the factory never writes: inverted rules, $ne, $nin, nulls. */
  it('translates any mix of allowing and inverted rules exactly (property)', async () => {
    const values = ['x', 'y', null];
    const rows = values.flatMap((a, i) => values.map((b, j) => ({ id: i * 3 + j, a, b })));
    // A temporary table lives on one connection: keep one for the whole property.
    const queryRunner = ds.createQueryRunner();
    await queryRunner.connect();
    await queryRunner.query('CREATE TEMP TABLE ability_cases (id int PRIMARY KEY, a text, b text)');
    for (const r of rows) await queryRunner.query('INSERT INTO ability_cases VALUES ($1, $2, $3)', [r.id, r.a, r.b]);

    const value = fc.constantFrom<string | null>('x', 'y', null);
    const fieldCondition = fc.oneof(
      value,
      value.map((v) => ({ $eq: v })),
      value.map((v) => ({ $ne: v })),
      fc.array(value, { maxLength: 3 }).map((v) => ({ $in: v })),
      fc.array(value, { maxLength: 3 }).map((v) => ({ $nin: v })),
    );
    const rule = fc.record(
      {
        inverted: fc.boolean(),
        conditions: fc.record({ a: fieldCondition, b: fieldCondition }, { requiredKeys: [] }),
        unconditional: fc.boolean(),
      },
      { requiredKeys: ['inverted', 'conditions', 'unconditional'] },
    );
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(rule, { maxLength: 5 }), async (spec) => {
          const raw: RawRuleOf<AppAbility>[] = spec.map((r) => ({
            action: 'read',
            subject: 'Project',
            inverted: r.inverted,
            ...(r.unconditional || Object.keys(r.conditions).length === 0 ? {} : { conditions: r.conditions }),
          }));
          const ability = createMongoAbility(raw);
          const expected = rows
            .filter((r) => ability.can('read', asSubject('Project', { a: r.a, b: r.b })))
            .map((r) => r.id);
          const { sql, params } = abilityToSql(ability, 'read', 'Project', 'c');
          const [text, args] = ds.driver.escapeQueryWithParameters(
            `SELECT c.id FROM ability_cases c WHERE ${sql} ORDER BY c.id`,
            params,
            {},
          );
          const got: { id: number }[] = await queryRunner.query(text, args);
          expect(got.map((r) => r.id)).toEqual(expected);
        }),
        { numRuns: 300 },
      );
    } finally {
      await queryRunner.release();
    }
  });
});

describe("The principal lookup's prepared statement", () => {
  it('stays on the indexes when it was planned while the membership tables were empty', async () => {
    const { ds } = await countingDataSource((await createTestDatabase()).url, 1);
    try {
      const lookup = new PrincipalLookup(ds, { DATABASE_PREPARED_STATEMENTS: true } as Settings);
      const [me] = await ds.query(`INSERT INTO users (username) VALUES ($1) RETURNING id`, [`u-${randomUUID()}`]);
      // Six runs on empty tables: PostgreSQL settles on the generic plan of the prepared statement.
      for (let i = 0; i < 6; i++) expect((await lookup.user(me.id))?.grants).toEqual([]);

      // Then a bulk load, before any ANALYZE could make PostgreSQL plan it again.
      await ds.query(
        `INSERT INTO organizations (key, name) SELECT 'o-' || g || '-' || $1, 'O' FROM generate_series(1, 100) g`,
        [randomUUID()],
      );
      await ds.query(`INSERT INTO groups (organization_id, name, scope_type, scope_id, role)
                      SELECT o.id, 'g' || g, 'organization', o.id, 'organization_read_reports' FROM organizations o CROSS JOIN generate_series(1, 100) g`);
      await ds.query(
        `INSERT INTO group_memberships (group_id, principal_type, principal_id) SELECT id, 'user', gen_random_uuid() FROM groups`,
      );
      await ds.query(
        `INSERT INTO group_memberships (group_id, principal_type, principal_id) SELECT id, 'user', $1 FROM groups LIMIT 50`,
        [me.id],
      );

      expect((await lookup.user(me.id))?.grants).toHaveLength(50);
      // One connection in the pool: the statement was prepared on the connection EXPLAIN uses.
      const plan: { 'QUERY PLAN': string }[] = await ds.query(
        `EXPLAIN EXECUTE campus_access_principal_user_grants_denied('${me.id}', NULL, NULL)`,
      );
      const text = plan.map((row) => row['QUERY PLAN']).join('\n');
      expect(text).toMatch(/Index Scan using \S+ on groups/);
      expect(text).not.toMatch(/Seq Scan on (groups|group_memberships)/);
    } finally {
      await ds.destroy();
    }
  });
});
