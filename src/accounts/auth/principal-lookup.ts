import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { Principal, PrincipalGrant, PrincipalType } from '../../common/auth/principal';
import { InjectSettings } from '../../config/settings.module';
import { Settings } from '../../config/settings.schema';
import { plainQuery, statementName } from '../../database/query';
import { principalGrantsJsonSql } from '../../permissions/ability.factory';

export interface PrincipalUserRow {
  id: string;
  username: string;
  isActive: boolean;
  isStaff: boolean;
  isSupport: boolean;
  organizationId: string | null;
  /** Live group memberships, read in the same statement. */
  grants: PrincipalGrant[];
}

export interface PrincipalServiceAccountRow {
  id: string;
  clientId: string;
  organizationId: string;
  grants: PrincipalGrant[];
}

const USER_SQL = `SELECT id, username, is_active AS "isActive", is_staff AS "isStaff", is_support AS "isSupport",
       organization_id AS "organizationId", ${principalGrantsJsonSql('user', 'users.id')} AS grants
  FROM users WHERE id = $1`;

const SERVICE_ACCOUNT_SQL = `SELECT id, client_id AS "clientId", organization_id AS "organizationId",
       ${principalGrantsJsonSql('service_account', 'service_accounts.id')} AS grants
  FROM service_accounts WHERE id = $1 AND is_active`;

/**
 * The few columns a principal is made of, with its live group memberships, read by one plain
 * (prepared) statement: every authenticated request makes one of these lookups, and it is the only
 * query its authentication and authorization need. Work done later on a principal's behalf makes one too.
 */
@Injectable()
export class PrincipalLookup {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectSettings() private readonly settings: Settings,
  ) {}

  /** The user, active or not; undefined when there is none. */
  async user(id: string): Promise<PrincipalUserRow | undefined> {
    const [user] = await plainQuery<PrincipalUserRow>(
      this.dataSource,
      USER_SQL,
      [id],
      statementName(this.settings, 'campus_access_principal_user_grants'),
    );
    return user;
  }

  /** The service account if it exists and is active. */
  async activeServiceAccount(id: string): Promise<PrincipalServiceAccountRow | undefined> {
    const [sa] = await plainQuery<PrincipalServiceAccountRow>(
      this.dataSource,
      SERVICE_ACCOUNT_SQL,
      [id],
      statementName(this.settings, 'campus_access_principal_service_account_grants'),
    );
    return sa;
  }

  /**
   * The principal as a token issued now would make it (user or service token, no scopes): for work
   * done later on someone's behalf, which must follow their current rights, not those they had when
   * they asked. Null when the principal no longer exists or is deactivated.
   */
  async current(type: PrincipalType, id: string): Promise<Principal | null> {
    if (type === 'service_account') {
      const sa = await this.activeServiceAccount(id);
      return sa ? serviceAccountPrincipal(sa, []) : null;
    }
    const user = await this.user(id);
    return user?.isActive ? userPrincipal(user, []) : null;
  }
}

export function serviceAccountPrincipal(sa: PrincipalServiceAccountRow, scopes: string[]): Principal {
  return {
    type: 'service_account',
    id: sa.id,
    name: sa.clientId,
    tokenKind: 'service',
    scopes,
    isStaff: false,
    isSupport: false,
    organizationId: sa.organizationId,
    grants: sa.grants,
  };
}

export function userPrincipal(user: PrincipalUserRow, scopes: string[]): Principal {
  return {
    type: 'user',
    id: user.id,
    name: user.username,
    tokenKind: 'user',
    scopes,
    isStaff: user.isStaff,
    isSupport: user.isSupport,
    organizationId: user.organizationId ?? undefined,
    grants: user.grants,
  };
}
