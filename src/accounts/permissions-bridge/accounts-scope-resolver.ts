import { Global, Injectable, Module } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { PrincipalType } from '../../common/auth/principal';
import {
  ResolvedOrganization,
  ResolvedPrincipal,
  ResolvedProject,
  SCOPE_RESOLVER,
  ScopeResolver,
} from '../../permissions/scope-resolver';
import { queryRows } from '../../database/query';

/** Answers the permissions module's questions about organizations, projects and principals. */
@Injectable()
export class AccountsScopeResolver implements ScopeResolver {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async resolveOrganization(id: string): Promise<ResolvedOrganization | null> {
    const [row] = await queryRows<ResolvedOrganization>(this.dataSource, 'SELECT id FROM organizations WHERE id = $1', [
      id,
    ]);
    return row ?? null;
  }

  async resolveProject(id: string, tx?: EntityManager): Promise<ResolvedProject | null> {
    const [row] = await queryRows<ResolvedProject>(
      tx ?? this.dataSource,
      `SELECT id, organization_id AS "organizationId" FROM projects WHERE id = $1 AND deleted_at IS NULL${tx ? ' FOR SHARE' : ''}`,
      [id],
    );
    return row ?? null;
  }

  async resolvePrincipal(type: PrincipalType, id: string): Promise<ResolvedPrincipal | null> {
    const table = type === 'user' ? 'users' : 'service_accounts';
    const [row] = await queryRows<ResolvedPrincipal>(
      this.dataSource,
      `SELECT id, organization_id AS "organizationId" FROM ${table} WHERE id = $1 AND is_active`,
      [id],
    );
    return row ?? null;
  }
}

/** Global, so the permissions module sees the resolver without importing accounts. */
@Global()
@Module({
  providers: [{ provide: SCOPE_RESOLVER, useClass: AccountsScopeResolver }],
  exports: [SCOPE_RESOLVER],
})
export class AccountsScopeResolverModule {}
