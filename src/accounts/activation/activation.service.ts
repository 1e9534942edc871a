import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomInt } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { Principal } from '../../common/auth/principal';
import { InjectSettings } from '../../config/settings.module';
import { Settings } from '../../config/settings.schema';
import { revokeSessionsOf } from '../auth/refresh-tokens.repository';
import { AccountsError } from '../accounts.errors';
import { AuditService } from '../audit/audit.service';
import { digestsEqual, sha256Hex } from '../../common/crypto/secrets';
import { UsersService } from '../users/users.service';
import { UsersRepository } from '../users/users.repository';
import { ActivationRecord } from './activation-record.entity';
import { queryRows } from '../../database/query';
import { TransactionRunner } from '../../database/transaction';

/** Unambiguous characters (no 0/O, 1/I/L) so codes survive being read out or printed. */
const CODE_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
const CODE_LENGTH = 12;
const NO_MATCH = sha256Hex('campus-access:no-activation-record');

export function newActivationCode(): string {
  return Array.from({ length: CODE_LENGTH }, () => CODE_ALPHABET[randomInt(CODE_ALPHABET.length)]).join('');
}

/** Codes are compared without separators or case, as people type them. */
function normalizeCode(code: string): string {
  return code.replace(/[\s-]/g, '').toUpperCase();
}

@Injectable()
export class ActivationService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly users: UsersService,
    private readonly audit: AuditService,
    @InjectSettings() private readonly settings: Settings,
    private readonly transactions: TransactionRunner,
    private readonly userRows: UsersRepository,
  ) {}

  /**
   * Finds the unused, unexpired, unlocked record matching the identity and code. A wrong code on a
   * record whose identity (crsid, or last name) and date of birth both match counts an attempt and
   * locks the record after ACTIVATION_MAX_ATTEMPTS; any other failure counts only against the
   * caller's address (the token endpoint's per-IP limit), so a stranger who knows a crsid cannot
   * lock its owner out.
   *
   * A failure does the same work whichever field was wrong, so its timing does not tell a wrong code
   * (the person and date of birth exist) from a wrong identity: the same statements run, the attempt
   * counter's UPDATE included (it matches no row for an unknown identity), and the transaction commits
   * without waiting for the WAL flush that only a write would need. Losing a counted attempt in a crash
   * is harmless; the per-IP limit still applies.
   */
  async match(input: {
    crsid?: string;
    lastName?: string;
    dateOfBirth: string;
    code: string;
  }): Promise<ActivationRecord | null> {
    const presented = sha256Hex(normalizeCode(input.code));
    return this.transactions.run(async (tx) => {
      await queryRows(tx, 'SET LOCAL synchronous_commit = off');
      const qb = tx
        .createQueryBuilder(ActivationRecord, 'a')
        .addSelect('a.codeHash')
        .setLock('pessimistic_write')
        .where('a.date_of_birth = :dob', { dob: input.dateOfBirth })
        .andWhere('a.used_at IS NULL AND a.expires_at > now()');
      // Stored folded by the database's lower() (foldCase), compared the same way.
      if (input.crsid !== undefined) qb.andWhere('a.crsid = lower(:crsid)', { crsid: input.crsid });
      else qb.andWhere('a.last_name = lower(:ln)', { ln: input.lastName!.trim() });
      const candidates = await qb.getMany();
      let found: ActivationRecord | null = null;
      for (const c of candidates) if (digestsEqual(presented, c.codeHash) && !found) found = c;
      if (!candidates.length) digestsEqual(presented, NO_MATCH);
      const now = new Date();
      if (found && (!found.lockedUntil || found.lockedUntil <= now)) {
        if (found.failedAttempts)
          await tx.update(ActivationRecord, { id: found.id }, { failedAttempts: 0, lockedUntil: null });
        return found;
      }
      // One statement whether the identity matched records or none: counts the failed attempt on
      // each unlocked record it matched, and locks those that reach the limit.
      await queryRows(
        tx,
        `UPDATE activation_records
            SET failed_attempts = CASE WHEN failed_attempts + 1 >= $2 THEN 0 ELSE failed_attempts + 1 END,
                locked_until = CASE WHEN failed_attempts + 1 >= $2 THEN now() + $3 * interval '1 second' ELSE NULL END,
                updated_at = now()
          WHERE id = ANY($1::uuid[]) AND (locked_until IS NULL OR locked_until <= now())`,
        [candidates.map((c) => c.id), this.settings.ACTIVATION_MAX_ATTEMPTS, this.settings.ACTIVATION_LOCK_SECONDS],
      );
      return null;
    });
  }

  /**
   * Sets the password and activates the user; the code is spent in the same transaction, and so are the
   * user's other outstanding codes, so an older letter cannot reset the password of the active account.
   */
  async activate(who: Principal, recordId: string, password: string): Promise<void> {
    await this.transactions.run(async (tx) => {
      // An account that was activated once and then deactivated by an administrator stays
      // deactivated: a leftover code must not switch it back on.
      const user = await this.userRows.lockStatus(tx, who.id);
      if (user && !user.isActive && user.passwordHash !== null) {
        throw new AccountsError('inactive', 'This account has been deactivated; ask an administrator.');
      }
      const spent = await tx
        .createQueryBuilder()
        .update(ActivationRecord)
        .set({ usedAt: () => 'now()' })
        .where('id = :id AND user_id = :user AND used_at IS NULL AND expires_at > now()', {
          id: recordId,
          user: who.id,
        })
        .returning(['organization_id'])
        .execute();
      if (!spent.affected)
        throw new AccountsError('activation_used', 'This activation has already been used or has expired.');
      await tx
        .createQueryBuilder()
        .update(ActivationRecord)
        .set({ usedAt: () => 'now()' })
        .where('user_id = :user AND used_at IS NULL', { user: who.id })
        .execute();
      await this.users.setPassword(who.id, password, tx);
      // A code issued to reset a forgotten (or stolen) password also ends the sessions of the old one.
      const revoked = await revokeSessionsOf(tx, who.id);
      await this.audit.record(
        {
          action: 'user.activated',
          actor: who,
          subjectType: 'User',
          subjectId: who.id,
          organizationId: spent.raw[0]?.organization_id ?? null,
          ...(revoked > 0 ? { data: { sessions_revoked: revoked } } : {}),
        },
        tx,
      );
    });
  }
}
