import { createMongoAbility } from '@casl/ability';
import { abilityToSql, scopeToAbility } from '../../../src/permissions/ability-to-sql';
import { scopeToUserHasPerm } from '../../../src/permissions/user-has-perm';

/** Replaces the generated parameter names with their values, to compare SQL by meaning. */
function inline({ sql, params }: { sql: string; params: Record<string, unknown> }): string {
  return sql.replace(/:(\w+)/g, (_, name: string) => JSON.stringify(params[name]));
}

describe('abilityToSql', () => {
  it('is 1=0 without a rule and 1=1 for an unconditional rule', () => {
    expect(abilityToSql(createMongoAbility([]), 'read', 'Project', 'p')).toEqual({ sql: '1=0', params: {} });
    expect(abilityToSql(createMongoAbility([{ action: 'manage', subject: 'all' }]), 'read', 'Project', 'p')).toEqual({
      sql: '1=1',
      params: {},
    });
    expect(abilityToSql(createMongoAbility([{ action: 'read', subject: 'Group' }]), 'read', 'Project', 'p').sql).toBe(
      '1=0',
    );
  });

  it('maps camelCase fields to the alias’s snake_case columns and ORs the rules', () => {
    const ability = createMongoAbility([
      { action: 'read', subject: 'Project', conditions: { organizationId: 'o1' } },
      { action: 'read', subject: 'Project', conditions: { id: { $in: ['p1', 'p2'] } } },
    ]);
    expect(inline(abilityToSql(ability, 'read', 'Project', 'p'))).toBe(
      '("p"."id" = ANY(["p1","p2"]) OR "p"."organization_id" = "o1")',
    );
  });

  it('ANDs the fields of one rule, including fixed values', () => {
    const ability = createMongoAbility([
      { action: 'read', subject: 'Group', conditions: { scopeType: 'project', scopeId: 'p1' } },
    ]);
    expect(inline(abilityToSql(ability, 'read', 'Group', 'g'))).toBe(
      '("g"."scope_type" = "project" AND "g"."scope_id" = "p1")',
    );
  });

  it('applies an inverted rule only to the rules below it', () => {
    const ability = createMongoAbility([
      { action: 'read', subject: 'Project', conditions: { organizationId: 'o1' } },
      { action: 'read', subject: 'Project', inverted: true, conditions: { id: 'secret' } },
      { action: 'read', subject: 'Project', conditions: { id: 'secret' } },
    ]);
    // The last rule has the highest priority: "secret" is allowed again by it.
    expect(inline(abilityToSql(ability, 'read', 'Project', 'p'))).toBe(
      '("p"."id" = "secret" OR ("p"."organization_id" = "o1" AND NOT COALESCE("p"."id" = "secret", FALSE)))',
    );
  });

  it('stops at an unconditional inverted rule', () => {
    const ability = createMongoAbility([
      { action: 'read', subject: 'Project', conditions: { organizationId: 'o1' } },
      { action: 'read', subject: 'Project', inverted: true },
    ]);
    expect(abilityToSql(ability, 'read', 'Project', 'p').sql).toBe('1=0');
  });

  it('translates null, $ne and $nin the way CASL matches them', () => {
    const ability = createMongoAbility([
      {
        action: 'read',
        subject: 'Project',
        conditions: { deletedAt: null, kind: { $ne: 'course' }, key: { $nin: ['a', null] } },
      },
    ]);
    expect(inline(abilityToSql(ability, 'read', 'Project', 'p'))).toBe(
      '("p"."deleted_at" IS NULL AND "p"."kind" IS DISTINCT FROM "course" AND "p"."key" <> ALL(["a"]))',
    );
  });

  it('uses column overrides, and expressions as they are', () => {
    const ability = createMongoAbility([
      { action: 'read', subject: 'CourseAccount', conditions: { organizationId: 'o1', projectId: 'p1' } },
    ]);
    const sql = inline(
      abilityToSql(ability, 'read', 'CourseAccount', 'ca', { columns: { organizationId: 'org', projectId: 'prj.id' } }),
    );
    expect(sql).toBe('("ca"."org" = "o1" AND prj.id = "p1")');
  });

  it('refuses operators it cannot translate instead of widening access', () => {
    const ability = createMongoAbility([
      { action: 'read', subject: 'Project', conditions: { name: { $regex: '^a' } } },
    ]);
    expect(() => abilityToSql(ability, 'read', 'Project', 'p')).toThrow(/no SQL translation/);
  });

  it('gives every call its own parameter names', () => {
    const ability = createMongoAbility([{ action: 'read', subject: 'Project', conditions: { organizationId: 'o1' } }]);
    const a = abilityToSql(ability, 'read', 'Project', 'p');
    const b = abilityToSql(ability, 'read', 'Project', 'p');
    expect(Object.keys(a.params)).not.toEqual(Object.keys(b.params));
  });
});

describe('scopeToAbility and scopeToUserHasPerm', () => {
  const fakeQb = () => {
    const calls: [string, Record<string, unknown>][] = [];
    return {
      calls,
      andWhere: (sql: string, params: Record<string, unknown>) => (calls.push([sql, params]), undefined),
    };
  };

  it('adds one bracketed condition', () => {
    const qb = fakeQb();
    const ability = createMongoAbility([{ action: 'read', subject: 'Project', conditions: { organizationId: 'o1' } }]);
    scopeToAbility(qb as never, ability, 'read', 'Project', 'p');
    expect(qb.calls).toHaveLength(1);
    expect(inline({ sql: qb.calls[0][0], params: qb.calls[0][1] })).toBe('("p"."organization_id" = "o1")');
  });

  it('leaves the query alone without user_has_perm and refuses an unknown action', () => {
    const qb = fakeQb();
    const ability = createMongoAbility([]);
    scopeToUserHasPerm(qb as never, ability, undefined, 'Project', 'p');
    expect(qb.calls).toHaveLength(0);
    expect(() => scopeToUserHasPerm(qb as never, ability, 'fly', 'Project', 'p')).toThrow(
      expect.objectContaining({ code: 'invalid_permission' }),
    );
    scopeToUserHasPerm(qb as never, ability, 'update', 'Project', 'p');
    expect(qb.calls[0][0]).toBe('(1=0)');
  });
});
