import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import type { JWTPayload } from 'jose';
import { DataSource } from 'typeorm';
import type { Principal } from '../../common/auth/principal';
import { AccountsError } from '../accounts.errors';
import { AuditService } from '../audit/audit.service';
import { BearerError } from '../auth/bearer-errors';
import { User } from '../users/user.entity';
import { USERNAME } from '../users/user.dto';
import { UsersService } from '../users/users.service';
import { ExternalIdentity } from './external-identity.entity';
import { TrustedIssuerConfig } from './trusted-issuers';
import { queryRows } from '../../database/query';
import { TransactionRunner } from '../../database/transaction';

/** Column sizes in characters (external_identities.subject, users.email, users.first_name/last_name). */
const SUBJECT_MAX = 255;
const EMAIL_MAX = 254;
const NAME_MAX = 150;

/** Whether PostgreSQL can store `v` in a varchar(max): it counts code points, and refuses NUL in text. */
function fits(v: string, max: number): boolean {
  return !v.includes('\u0000') && [...v].length <= max;
}

/** A non-blank string claim that fits its column; anything else counts as absent. */
function claim(payload: JWTPayload, name: string, max: number): string | undefined {
  const v = (payload as Record<string, unknown>)[name];
  if (typeof v !== 'string' || !v.trim()) return undefined;
  return fits(v.trim(), max) ? v.trim() : undefined;
}

/** The users columns a token may keep current, by their API names (audit events name them so). */
const PROFILE_FIELDS = { email: 'email', firstName: 'first_name', lastName: 'last_name' } as const;
type ProfileField = keyof typeof PROFILE_FIELDS;

/** Users seen through trusted external issuers: created on first valid token, names and e-mail kept current. */
@Injectable()
export class ExternalUsersService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly users: UsersService,
    private readonly audit: AuditService,
    private readonly transactions: TransactionRunner,
  ) {}

  /**
   * The user behind a verified token of `issuer`. The e-mail and names follow the token's claims, but only
   * the claims it carries: a token without `given_name`, or with one too long for the column, leaves the
   * stored first name as it is. A `sub` that cannot be stored refuses the token (401 `invalid_token`).
   */
  async provision(issuer: TrustedIssuerConfig, payload: JWTPayload): Promise<User> {
    const sub = payload.sub!;
    if (!fits(sub, SUBJECT_MAX))
      throw new BearerError(
        401,
        'invalid_token',
        `The token's sub is longer than ${SUBJECT_MAX} characters or contains a NUL.`,
      );
    const claimed: Record<ProfileField, string | undefined> = {
      email: claim(payload, issuer.claims.email, EMAIL_MAX),
      firstName: claim(payload, issuer.claims.firstName, NAME_MAX),
      lastName: claim(payload, issuer.claims.lastName, NAME_MAX),
    };
    try {
      return await this.provisionOnce(issuer, sub, claimed, payload);
    } catch (e) {
      // Someone else took the username this newcomer was given, between our check and our insert:
      // once more, now seeing it taken, so the newcomer gets another.
      if (e instanceof AccountsError && e.code === 'duplicate_username')
        return this.provisionOnce(issuer, sub, claimed, payload);
      throw e;
    }
  }

  private provisionOnce(
    issuer: TrustedIssuerConfig,
    sub: string,
    claimed: Record<ProfileField, string | undefined>,
    payload: JWTPayload,
  ): Promise<User> {
    return this.transactions.run(async (tx) => {
      // Serialize first sightings of the same (issuer, sub) across requests and replicas.
      await queryRows(tx, 'SELECT pg_advisory_xact_lock(hashtext($1))', [`external:${issuer.issuer}:${sub}`]);
      const identity = await tx.findOneBy(ExternalIdentity, { issuer: issuer.issuer, subject: sub });
      if (identity) {
        const user = await tx.findOneByOrFail(User, { id: identity.userId });
        const changed = (Object.keys(claimed) as ProfileField[]).filter(
          (k) => claimed[k] !== undefined && claimed[k] !== user[k],
        );
        // A deactivated user's token is refused after this; it changes nothing either.
        if (changed.length && user.isActive) {
          const values = Object.fromEntries(changed.map((k) => [k, claimed[k]]));
          await tx.update(User, { id: user.id }, values);
          Object.assign(user, values);
          // The user's own sign-in brought the change, through the issuer's claims.
          const actor: Principal = {
            type: 'user',
            id: user.id,
            name: user.username,
            tokenKind: 'external',
            scopes: [],
            isStaff: user.isStaff,
            isSupport: user.isSupport,
          };
          await this.audit.record(
            {
              action: 'user.updated',
              actor,
              subjectType: 'User',
              subjectId: user.id,
              organizationId: user.organizationId,
              data: { fields: changed.map((k) => PROFILE_FIELDS[k]), issuer: issuer.issuer },
            },
            tx,
          );
        }
        return user;
      }
      const preferred = claim(payload, issuer.claims.username, NAME_MAX);
      let username =
        preferred && USERNAME.test(preferred)
          ? preferred
          : `ext-${sub.replace(/[^A-Za-z0-9._@+-]/g, '').slice(0, 40) || 'user'}`;
      const taken = await queryRows(tx, 'SELECT 1 FROM users WHERE lower(username) = lower($1)', [username]);
      if (taken.length) username = `${username.slice(0, 130)}-${randomBytes(4).toString('hex')}`;
      // No claim can make an external user staff or support.
      const user = await this.users.insert(
        {
          username,
          email: claimed.email ?? null,
          firstName: claimed.firstName ?? '',
          lastName: claimed.lastName ?? '',
          kind: 'external',
          source: `external:${issuer.issuer}`,
        },
        tx,
      );
      await tx.insert(ExternalIdentity, { issuer: issuer.issuer, subject: sub, userId: user.id });
      await this.audit.record(
        {
          action: 'user.provisioned_external',
          actor: { type: 'system' },
          subjectType: 'User',
          subjectId: user.id,
          data: { issuer: issuer.issuer, username },
        },
        tx,
      );
      return user;
    });
  }
}
