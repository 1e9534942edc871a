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
  /** The token asked about is on the deny list (its jti, or its session's sid), read in the same statement. */
  revoked: boolean;
}

export interface PrincipalServiceAccountRow {
  id: string;
  clientId: string;
  organizationId: string;
  grants: PrincipalGrant[];
  /** The token asked about is on the deny list, or was issued before the account's tokens were all revoked. */
  revoked: boolean;
}

/** The token a lookup is made for: its deny-list check rides in the lookup's statement. */
export interface TokenIdentity {
  jti?: string;
  /** The session (refresh-token family) a user access token belongs to. */
  sid?: string;
  /** Seconds since the epoch. */
  iat?: number;
}

/** The claims of one of our verified tokens that the deny-list check reads. */
export function tokenIdentity(payload: { jti?: unknown; sid?: unknown; iat?: unknown }): TokenIdentity {
  return {
    jti: typeof payload.jti === 'string' ? payload.jti : undefined,
    sid: typeof payload.sid === 'string' ? payload.sid : undefined,
    iat: typeof payload.iat === 'number' ? payload.iat : undefined,
  };
}

/** Whether `$2` (jti) or `$3` (sid) is on the deny list; both null for a lookup made for no token. */
const DENIED_SQL = `EXISTS (SELECT 1 FROM revoked_access_tokens r WHERE r.jti = $2::varchar OR r.jti = $3::varchar)`;

const USER_SQL = `SELECT id, username, is_active AS "isActive", is_staff AS "isStaff", is_support AS "isSupport",
       organization_id AS "organizationId", ${principalGrantsJsonSql('user', 'users.id')} AS grants,
       ${DENIED_SQL} AS revoked
  FROM users WHERE id = $1`;

const SERVICE_ACCOUNT_SQL = `SELECT id, client_id AS "clientId", organization_id AS "organizationId",
       ${principalGrantsJsonSql('service_account', 'service_accounts.id')} AS grants,
       (${DENIED_SQL} OR COALESCE(to_timestamp($4::double precision) < tokens_valid_after, false)) AS revoked
  FROM service_accounts WHERE id = $1 AND is_active`;

/**
 * The few columns a principal is made of, with its live group memberships, read by one plain
 * (prepared) statement: every authenticated request makes one of these lookups, and it is the only
 * query its authentication and authorization need; whether the request's token was revoked (RFC 7009)
 * is read in the same statement. Work done later on a principal's behalf makes one too.
 */
@Injectable()
export class PrincipalLookup {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectSettings() private readonly settings: Settings,
  ) {}

  /** The user, active or not; undefined when there is none. With `token`, whether that token is revoked. */
  async user(id: string, token: TokenIdentity = {}): Promise<PrincipalUserRow | undefined> {
    const [user] = await plainQuery<PrincipalUserRow>(
      this.dataSource,
      USER_SQL,
      [id, token.jti ?? null, token.sid ?? null],
      statementName(this.settings, 'campus_access_principal_user_grants_denied'),
    );
    return user;
  }

  /** The service account if it exists and is active. With `token`, whether that token is revoked. */
  async activeServiceAccount(id: string, token: TokenIdentity = {}): Promise<PrincipalServiceAccountRow | undefined> {
    const [sa] = await plainQuery<PrincipalServiceAccountRow>(
      this.dataSource,
      SERVICE_ACCOUNT_SQL,
      [id, token.jti ?? null, token.sid ?? null, token.iat ?? null],
      statementName(this.settings, 'campus_access_principal_service_account_grants_denied'),
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
