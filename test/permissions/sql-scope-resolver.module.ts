import { Global, Injectable, Module } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { PrincipalType } from '../../src/common/auth/principal';
import {
  ResolvedOrganization,
  ResolvedPrincipal,
  ResolvedProject,
  SCOPE_RESOLVER,
  ScopeResolver,
} from '../../src/permissions/scope-resolver';

/** The ScopeResolver contract answered straight from the accounts tables, for permissions tests. */
@Injectable()
export class SqlScopeResolver implements ScopeResolver {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  async resolveOrganization(id: string): Promise<ResolvedOrganization | null> {
    const [row] = await this.ds.query('SELECT id FROM organizations WHERE id = $1', [id]);
    return row ?? null;
  }

  async resolveProject(id: string): Promise<ResolvedProject | null> {
    const [row] = await this.ds.query(
      'SELECT id, organization_id AS "organizationId" FROM projects WHERE id = $1 AND deleted_at IS NULL',
      [id],
    );
    return row ?? null;
  }

  async resolvePrincipal(type: PrincipalType, id: string): Promise<ResolvedPrincipal | null> {
    const table = type === 'user' ? 'users' : 'service_accounts';
    const [row] = await this.ds.query(
      `SELECT id, organization_id AS "organizationId" FROM ${table} WHERE id = $1 AND is_active`,
      [id],
    );
    return row ?? null;
  }
}

@Global()
@Module({
  providers: [SqlScopeResolver, { provide: SCOPE_RESOLVER, useExisting: SqlScopeResolver }],
  exports: [SCOPE_RESOLVER],
})
export class SqlScopeResolverModule {}
