import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import type { JWTPayload } from 'jose';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { User } from '../users/user.entity';
import { USERNAME } from '../users/user.dto';
import { UsersService } from '../users/users.service';
import { ExternalIdentity } from './external-identity.entity';
import { TrustedIssuerConfig } from './trusted-issuers';

function claim(payload: JWTPayload, name: string): string | undefined {
  const v = (payload as Record<string, unknown>)[name];
  return typeof v === 'string' && v.trim() ? v.trim() : undefined;
}

/** Users seen through trusted external issuers: created on first valid token, names and e-mail kept current. */
@Injectable()
export class ExternalUsersService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly users: UsersService,
    private readonly audit: AuditService,
  ) {}

  async provision(issuer: TrustedIssuerConfig, payload: JWTPayload): Promise<User> {
    const sub = payload.sub!;
    const wanted = {
      email: claim(payload, issuer.claims.email) ?? null,
      firstName: (claim(payload, issuer.claims.firstName) ?? '').slice(0, 150),
      lastName: (claim(payload, issuer.claims.lastName) ?? '').slice(0, 150),
    };
    return this.dataSource.transaction(async (tx) => {
      // Serialize first sightings of the same (issuer, sub) across requests and replicas.
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`external:${issuer.issuer}:${sub}`]);
      const identity = await tx.findOneBy(ExternalIdentity, { issuer: issuer.issuer, subject: sub });
      if (identity) {
        const user = await tx.findOneByOrFail(User, { id: identity.userId });
        const changed = (Object.keys(wanted) as (keyof typeof wanted)[]).filter((k) => wanted[k] !== null && wanted[k] !== user[k]);
        if (changed.length) {
          await tx.update(User, { id: user.id }, Object.fromEntries(changed.map((k) => [k, wanted[k]])));
          Object.assign(user, Object.fromEntries(changed.map((k) => [k, wanted[k]])));
        }
        return user;
      }
      const preferred = claim(payload, issuer.claims.username);
      let username = preferred && USERNAME.test(preferred) ? preferred : `ext-${sub.replace(/[^A-Za-z0-9._@+-]/g, '').slice(0, 40) || 'user'}`;
      const taken = await tx.query('SELECT 1 FROM users WHERE lower(username) = lower($1)', [username]);
      if (taken.length) username = `${username.slice(0, 130)}-${randomBytes(4).toString('hex')}`;
      // No claim can make an external user staff or support.
      const user = await this.users.insert({ username, ...wanted, kind: 'external', source: `external:${issuer.issuer}` }, tx);
      await tx.insert(ExternalIdentity, { issuer: issuer.issuer, subject: sub, userId: user.id });
      await this.audit.record({ action: 'user.provisioned_external', actor: { type: 'system' }, subjectType: 'User', subjectId: user.id, data: { issuer: issuer.issuer, username } }, tx);
      return user;
    });
  }
}
