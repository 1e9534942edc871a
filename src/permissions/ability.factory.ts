import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { PinoLogger } from 'nestjs-pino';
import { DataSource, EntityManager } from 'typeorm';
import type { Principal, PrincipalGrant, PrincipalType } from '../common/auth/principal';
import { AppAbility, buildAbility, Grant } from './ability';
import { findRole, roleProblems } from './roles';
import { isScopeType } from './subjects';
import { queryRows } from '../database/query';

/**
 * The groups of a principal's live (unexpired) memberships, as one row per grant: `principalType` and
 * `principalId` are SQL expressions (parameters, or a column of an outer row). Each membership's group
 * is looked up by primary key: the LIMIT keeps the lateral lookup from being flattened into a join, which
 * PostgreSQL prefers to run by hashing the whole groups table. It also keeps the principal lookup's
 * prepared plan on the indexes when that plan was made while the tables were empty (filtering groups
 * by an array of ids scans the table then). Figures: bench/README.md, `bench:permissions`.
 */
function liveGrantsFrom(principalType: string, principalId: string): string {
  return `FROM group_memberships m
    CROSS JOIN LATERAL (SELECT role, scope_type, scope_id, organization_id FROM groups WHERE groups.id = m.group_id LIMIT 1) g
    WHERE m.principal_type = ${principalType} AND m.principal_id = ${principalId} AND (m.expires_at IS NULL OR m.expires_at > now())`;
}

/** Live grants of one principal: the query of a principal whose grants were not read with it. */
const GRANTS_SQL = `SELECT g.role, g.scope_type AS "scopeType", g.scope_id AS "scopeId", g.organization_id AS "organizationId"
  ${liveGrantsFrom('$1', '$2')}`;

/**
 * The same grants as one JSON array, as an expression over a principal's row: the principal lookup every
 * request makes reads them in its own statement. `idColumn` is the row's id column (`users.id`).
 */
export function principalGrantsJsonSql(type: PrincipalType, idColumn: string): string {
  const principalType = type === 'user' ? `'user'` : `'service_account'`;
  return `(SELECT COALESCE(json_agg(json_build_object('role', g.role, 'scopeType', g.scope_type, 'scopeId', g.scope_id, 'organizationId', g.organization_id)), '[]'::json)
    ${liveGrantsFrom(principalType, idColumn)})`;
}

/** Builds the CASL ability of a principal from its live group memberships. */
@Injectable()
export class AbilityFactory {
  /** The grants each built ability came from, so the same request never queries them twice. */
  private readonly grantsByAbility = new WeakMap<AppAbility, Grant[]>();

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext(AbilityFactory.name);
    const problems = roleProblems();
    if (problems.length > 0) throw new Error(`Invalid roles in src/permissions/roles.ts:\n${problems.join('\n')}`);
  }

  /**
   * The principal's ability. Staff and activation tokens need no query; nor does a principal whose
   * grants were read with it (outside a transaction); everyone else costs one. Expired memberships are
   * filtered in SQL, so they grant nothing without any clean-up.
   */
  async for(principal: Principal, manager?: EntityManager): Promise<AppAbility> {
    if (principal.isStaff || principal.tokenKind === 'activation') return buildAbility(principal, []);
    const grants =
      principal.grants && !manager ? this.known(principal, principal.grants) : await this.grantsOf(principal, manager);
    const ability = buildAbility(principal, grants);
    this.grantsByAbility.set(ability, grants);
    return ability;
  }

  /** The grants behind an ability this factory built from memberships (not for staff or activation tokens). */
  grantsBehind(ability: AppAbility): Grant[] | undefined {
    return this.grantsByAbility.get(ability);
  }

  async grantsOf(principal: Principal, manager: EntityManager = this.dataSource.manager): Promise<Grant[]> {
    return this.known(principal, await queryRows(manager, GRANTS_SQL, [principal.type, principal.id]));
  }

  private known(principal: Principal, rows: readonly PrincipalGrant[]): Grant[] {
    return rows.filter((row): row is Grant => {
      const role = findRole(row.role);
      if (role && isScopeType(row.scopeType) && role.scopeType === row.scopeType) return true;
      // A role removed from the code (or a hand-edited row) grants nothing.
      this.logger.warn(
        { role: row.role, scopeType: row.scopeType, principal: principal.id },
        'membership with an unknown role ignored',
      );
      return false;
    });
  }
}
