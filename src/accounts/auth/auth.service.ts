import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import type { Principal } from '../../common/auth/principal';
import { InjectSettings } from '../../config/settings.module';
import { Settings } from '../../config/settings.schema';
import { AccountsError } from '../accounts.errors';
import { AuditService } from '../audit/audit.service';
import { hashPassword, verifyPassword } from '../users/passwords';
import { User } from '../users/user.entity';
import { UsersService } from '../users/users.service';
import { UsersRepository } from '../users/users.repository';
import { RateLimiter } from './rate-limiter';
import { lockFamilyOf, revokeFamily, revokeSessionsOf, rotatedWithin } from './refresh-tokens.repository';
import { RefreshToken } from './refresh-token.entity';
import { randomSecret, sha256Hex } from '../../common/crypto/secrets';
import { IssuedToken, TokenIssuer } from './token-issuer.service';
import { CommonError } from '../../common/errors/common.errors';
import { TransactionRunner } from '../../database/transaction';

export interface TokenPair {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token: string;
}

const BAD_LOGIN = 'Wrong username or password.';

/** Attempt-limit keys of password checks: logins and password changes share them. */
const limitKeys = {
  ip: (ip: string) => `login:ip:${ip}`,
  account: (userId: string) => `login:account:id:${userId}`,
};

@Injectable()
export class AuthService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly users: UsersService,
    private readonly issuer: TokenIssuer,
    private readonly audit: AuditService,
    private readonly limiter: RateLimiter,
    @InjectSettings() private readonly settings: Settings,
    private readonly transactions: TransactionRunner,
    private readonly userRows: UsersRepository,
  ) {}

  private async issuePair(user: User, familyId: string, tx: EntityManager): Promise<TokenPair> {
    const refresh = randomSecret(32);
    await tx.insert(RefreshToken, {
      tokenHash: sha256Hex(refresh),
      familyId,
      userId: user.id,
      expiresAt: new Date(Date.now() + this.settings.REFRESH_TOKEN_TTL_SECONDS * 1000),
    });
    const access = await this.issuer.userAccessToken(user.id, user.username, familyId);
    return { access_token: access.token, token_type: 'Bearer', expires_in: access.expiresIn, refresh_token: refresh };
  }

  /**
   * An access token for a staff dashboard's cookie (see dashboard-session.ts). Only staff users: the
   * route's `manage all` also admits organization admins, whose rights stop at their organization.
   */
  dashboardSession(who: Principal): Promise<IssuedToken> {
    if (who.type !== 'user' || !who.isStaff)
      throw new CommonError('forbidden', 'Only staff may open the staff dashboards.');
    // The authentication guard has just checked that the user is active; a principal's name is its username.
    return this.issuer.userAccessToken(who.id, who.name);
  }

  /** Same 401 body and similar time for an unknown user, a wrong password and an inactive account. */
  async login(login: string, password: string, ip: string): Promise<TokenPair> {
    await this.limiter.hit([limitKeys.ip(ip)]);
    const user = await this.users.findForLogin(login);
    // Per account, not per login string: attempts by username and by e-mail count together.
    await this.limiter.hit([user ? limitKeys.account(user.id) : `login:account:name:${login.toLowerCase()}`]);
    const ok = await verifyPassword(user?.passwordHash, password);
    if (!user || !ok || !user.isActive) {
      await this.audit.record({
        action: 'auth.login_failed',
        actor: { type: 'anonymous' },
        subjectType: 'User',
        subjectId: user?.id,
        organizationId: user?.organizationId,
        data: { login },
        ip,
      });
      throw new AccountsError('invalid_credentials', BAD_LOGIN);
    }
    return this.transactions.run(async (tx) => {
      const pair = await this.issuePair(user, randomUUID(), tx);
      await tx.update(User, { id: user.id }, { lastLoginAt: new Date() });
      await this.audit.record(
        {
          action: 'auth.login',
          actor: { type: 'user', id: user.id } as never,
          subjectType: 'User',
          subjectId: user.id,
          organizationId: user.organizationId,
          ip,
        },
        tx,
      );
      return pair;
    });
  }

  /**
   * The caller changes its own password, proving the current one. Every other session ends (all of
   * the user's refresh tokens are revoked) and the caller gets a new token pair. Attempts count
   * against the same per-IP and per-account limits as logins, so this is no faster a way to guess
   * a password. Access tokens already issued run out by themselves (ACCESS_TOKEN_TTL_SECONDS).
   */
  async changePassword(who: Principal, current: string, next: string, ip: string): Promise<TokenPair> {
    if (who.type !== 'user' || who.tokenKind !== 'user') {
      throw new CommonError(
        'forbidden',
        'Only users who log in with a password can change it; service accounts rotate their secret.',
      );
    }
    await this.limiter.hit([limitKeys.ip(ip), limitKeys.account(who.id)]);
    const stored = await this.dataSource
      .getRepository(User)
      .createQueryBuilder('u')
      .addSelect('u.passwordHash')
      .where('u.id = :id', { id: who.id })
      .getOne();
    if (!(await verifyPassword(stored?.passwordHash, current))) {
      await this.audit.record({
        action: 'auth.password_change_failed',
        actor: who,
        subjectType: 'User',
        subjectId: who.id,
        organizationId: stored?.organizationId,
        ip,
      });
      throw new AccountsError('wrong_current_password', 'The current password is not right.');
    }
    if (current === next) throw new AccountsError('password_unchanged', 'The new password is the current one.');
    const hash = await hashPassword(next);
    return this.transactions.run(async (tx) => {
      // Locked: a deactivation, or another change, either comes first and is seen here, or waits. NO KEY:
      // a rotation holding a family lock must still insert its token (a foreign key to this row).
      const user = await this.userRows.lockStatus(tx, who.id);
      if (!user?.isActive) throw new AccountsError('inactive', 'The account has been deactivated.');
      if (user.passwordHash !== stored!.passwordHash)
        throw new AccountsError('wrong_current_password', 'The password was changed meanwhile.');
      await tx.update(User, { id: who.id }, { passwordHash: hash });
      const revoked = await revokeSessionsOf(tx, who.id);
      await this.audit.record(
        {
          action: 'user.password_changed',
          actor: who,
          subjectType: 'User',
          subjectId: who.id,
          organizationId: stored!.organizationId,
          data: { sessions_revoked: revoked },
          ip,
        },
        tx,
      );
      return this.issuePair(stored!, randomUUID(), tx);
    });
  }

  /**
   * Rotates a refresh token. Presenting one that was already rotated means it leaked: the whole
   * family is revoked and the event audited (RFC 9700 §4.14.2) — except within
   * REFRESH_TOKEN_REUSE_GRACE_SECONDS of its rotation, when it is the same client asking twice (two
   * tabs refreshing at once, an answer lost on the way): it then gets a new pair of the same family,
   * and the pair the first rotation handed out stays valid. Only hashes of refresh tokens are
   * stored, so the first answer cannot be repeated as it was.
   */
  async refresh(token: string, ip: string): Promise<TokenPair> {
    const hash = sha256Hex(token);
    const outcome = await this.transactions.run(async (tx) => {
      if (!(await lockFamilyOf(tx, hash))) return { error: 'invalid' as const };
      const row = await tx
        .createQueryBuilder(RefreshToken, 'r')
        .setLock('pessimistic_write')
        .where('r.token_hash = :hash', { hash })
        .getOne();
      if (!row || row.revokedAt || row.expiresAt <= new Date()) return { error: 'invalid' as const };
      if (row.rotatedAt && (await this.rotatedWithinGrace(tx, row.id))) {
        const user = await tx.findOneBy(User, { id: row.userId });
        if (!user?.isActive) return { error: 'invalid' as const };
        await this.audit.record(
          {
            action: 'auth.refresh_repeated',
            actor: { type: 'user', id: user.id } as never,
            subjectType: 'User',
            subjectId: user.id,
            organizationId: user.organizationId,
            data: { family_id: row.familyId },
            ip,
          },
          tx,
        );
        return { pair: await this.issuePair(user, row.familyId, tx) };
      }
      if (row.rotatedAt) {
        await revokeFamily(tx, row.familyId);
        await this.audit.record(
          {
            action: 'auth.refresh_reuse_detected',
            actor: { type: 'anonymous' },
            subjectType: 'User',
            subjectId: row.userId,
            data: { family_id: row.familyId },
            ip,
          },
          tx,
        );
        return { error: 'reused' as const };
      }
      const user = await tx.findOneBy(User, { id: row.userId });
      if (!user?.isActive) return { error: 'invalid' as const };
      // The database's clock, which rotatedWithinGrace() compares with, whichever replica asks.
      await tx.update(RefreshToken, { id: row.id }, { rotatedAt: () => 'now()' });
      return { pair: await this.issuePair(user, row.familyId, tx) };
    });
    if ('pair' in outcome && outcome.pair) return outcome.pair;
    throw new AccountsError('invalid_refresh_token', 'The refresh token is not valid.');
  }

  private rotatedWithinGrace(tx: EntityManager, id: string): Promise<boolean> {
    return rotatedWithin(tx, id, this.settings.REFRESH_TOKEN_REUSE_GRACE_SECONDS);
  }

  /** Revokes the token's whole family (this login on every device that shares it). */
  async logout(token: string): Promise<void> {
    const hash = sha256Hex(token);
    await this.transactions.run(async (tx) => {
      const familyId = await lockFamilyOf(tx, hash);
      if (!familyId) return;
      await revokeFamily(tx, familyId);
    });
  }
}
