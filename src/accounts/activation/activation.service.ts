import { Injectable } from '@nestjs/common';
import { requireCreateIn } from '../../permissions/access';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomInt, randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import type { Principal } from '../../common/auth/principal';
import { InjectSettings } from '../../config/settings.module';
import { Settings } from '../../config/settings.schema';
import type { AppAbility } from '../../permissions/ability';
import { GroupsService } from '../../permissions/groups/groups.service';
import { revokeSessionsOf } from '../auth/auth.service';
import { AccountsError } from '../accounts.errors';
import { AuditService } from '../audit/audit.service';
import { digestsEqual, sha256Hex } from '../auth/secrets';
import { Organization } from '../organizations/organization.entity';
import { UsersService } from '../users/users.service';
import { ActivationRecord } from './activation-record.entity';
import { NewActivationRecordDto } from './activation.dto';
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

export interface ActivationRowResult {
  row: number;
  status: 'created' | 'error';
  id?: string;
  user?: string;
  code?: string;
  error?: string;
  message?: string;
}

@Injectable()
export class ActivationService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly users: UsersService,
    private readonly audit: AuditService,
    @InjectSettings() private readonly settings: Settings,
    private readonly transactions: TransactionRunner,
    private readonly groups: GroupsService,
  ) {}

  /**
   * Finds the unused, unexpired, unlocked record matching the identity and code. A wrong code on a
   * matching identity counts an attempt and locks the record after ACTIVATION_MAX_ATTEMPTS.
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
      if (input.crsid !== undefined) qb.andWhere('a.crsid = :crsid', { crsid: input.crsid.toLowerCase() });
      else qb.andWhere('a.last_name = :ln', { ln: input.lastName!.trim().toLowerCase() });
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
      const [user] = await queryRows<{ is_active: boolean; activated: boolean }>(
        tx,
        'SELECT is_active, password_hash IS NOT NULL AS activated FROM users WHERE id = $1 FOR NO KEY UPDATE',
        [who.id],
      );
      if (user && !user.is_active && user.activated) {
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

  /**
   * Creates the records of one request together: one transaction, a handful of statements whatever the
   * row count (existing users in one query, new users, records and audit events in multi-row INSERTs).
   * Each row is reported; a row whose username belongs to another organization is refused without
   * blocking the others. Several rows may name the same person: they share one user.
   */
  async createMany(
    who: Principal,
    ability: AppAbility,
    organizationId: string,
    rows: NewActivationRecordDto[],
  ): Promise<ActivationRowResult[]> {
    const org = await this.dataSource.manager.findOneBy(Organization, { id: organizationId });
    requireCreateIn(ability, 'ActivationRecord', organizationId, Boolean(org));
    try {
      return await this.insertRecords(who, organizationId, rows);
    } catch (e) {
      // Another request created one of these usernames meanwhile: once more, now seeing it.
      if (e instanceof AccountsError && e.code === 'duplicate_username')
        return this.insertRecords(who, organizationId, rows);
      throw e;
    }
  }

  /** One transaction: the users the rows name (created when new), the records, their audit events. */
  private insertRecords(
    who: Principal,
    organizationId: string,
    rows: NewActivationRecordDto[],
  ): Promise<ActivationRowResult[]> {
    const usernames = rows.map((r) => r.crsid.toLowerCase());
    return this.transactions.run(async (tx) => {
      const users = await this.existingUsers(tx, usernames, organizationId);
      await this.createMissingUsers(tx, organizationId, rows, usernames, users);
      const { records, results } = this.issueCodes(who, organizationId, rows, usernames, users);
      await this.insertActivationRecords(tx, records);
      await this.audit.recordMany(
        records.map((r) => ({
          action: 'activation_record.created',
          actor: who,
          subjectType: 'ActivationRecord',
          subjectId: r.id,
          organizationId,
          data: { crsid: r.crsid },
        })),
        tx,
      );
      return results;
    });
  }

  /** The users already named by `usernames`, by lower-case username, with what refusedToOrganizationAdmins() decides on. */
  private async existingUsers(
    tx: EntityManager,
    usernames: string[],
    organizationId: string,
  ): Promise<Map<string, TargetUser>> {
    const existing = await queryRows<TargetUser>(
      tx,
      `SELECT u.id, lower(u.username) AS username, u.organization_id AS "organizationId", (u.is_staff OR u.is_support) AS privileged,
              u.password_hash IS NOT NULL AS activated, u.kind = 'person' AS person
         FROM users u WHERE lower(u.username) = ANY($1::text[])`,
      [[...new Set(usernames)]],
    );
    const elsewhere = await this.groups.membersOutside(
      'user',
      existing.map((u) => u.id),
      organizationId,
      tx,
    );
    return new Map(existing.map((u) => [u.username, { ...u, rightsElsewhere: elsewhere.has(u.id) }]));
  }

  /** Creates, inactive, the users no row's username names yet (the first row naming one gives its details); adds them to `users`. */
  private async createMissingUsers(
    tx: EntityManager,
    organizationId: string,
    rows: NewActivationRecordDto[],
    usernames: string[],
    users: Map<string, TargetUser>,
  ): Promise<void> {
    const fresh = new Map<string, NewActivationRecordDto>();
    for (const [i, row] of rows.entries())
      if (!users.has(usernames[i]) && !fresh.has(usernames[i])) fresh.set(usernames[i], row);
    const freshIds = await this.users.insertMany(
      [...fresh].map(([username, r]) => ({
        username,
        email: r.email ?? null,
        firstName: r.first_name ?? '',
        lastName: r.last_name,
        organizationId,
        isActive: false,
      })),
      tx,
    );
    [...fresh.keys()].forEach((username, i) => users.set(username, { id: freshIds[i], username, organizationId }));
  }

  /** A record with a new code for every row the caller may issue one for; every row's outcome, in row order. */
  private issueCodes(
    who: Principal,
    organizationId: string,
    rows: NewActivationRecordDto[],
    usernames: string[],
    users: Map<string, TargetUser>,
  ): { records: NewRecord[]; results: ActivationRowResult[] } {
    const expiresAt = new Date(Date.now() + this.settings.ACTIVATION_CODE_TTL_DAYS * 86400_000);
    const results: ActivationRowResult[] = [];
    const records: NewRecord[] = [];
    for (const [row, input] of rows.entries()) {
      const user = users.get(usernames[row])!;
      if (user.organizationId !== organizationId) {
        results.push({
          row,
          status: 'error',
          error: 'duplicate_username',
          message: `The username "${usernames[row]}" belongs to another organization.`,
        });
        continue;
      }
      const refusal = who.isStaff ? undefined : refusedToOrganizationAdmins(user, usernames[row]);
      if (refusal) {
        results.push({ row, status: 'error', ...refusal });
        continue;
      }
      const code = newActivationCode();
      const id = randomUUID();
      records.push({
        id,
        organizationId,
        userId: user.id,
        crsid: usernames[row],
        lastName: input.last_name.trim().toLowerCase(),
        dateOfBirth: input.date_of_birth,
        codeHash: sha256Hex(code),
        expiresAt,
      });
      results.push({ row, status: 'created', id, user: user.id, code });
    }
    return { records, results };
  }

  private async insertActivationRecords(tx: EntityManager, records: NewRecord[]): Promise<void> {
    for (let i = 0; i < records.length; i += RECORDS_PER_INSERT) {
      await tx
        .createQueryBuilder()
        .insert()
        .into(ActivationRecord)
        .values(records.slice(i, i + RECORDS_PER_INSERT))
        .updateEntity(false)
        .execute();
    }
  }
}

type NewRecord = Partial<ActivationRecord> & { id: string; crsid: string };

/** A user a row names, as refusedToOrganizationAdmins() sees it (new users carry none of it). */
type TargetUser = { id: string; username: string; organizationId: string | null } & Partial<CodeTarget>;

/** What decides whether an organization admin may issue a code to an existing user. */
interface CodeTarget {
  privileged: boolean;
  activated: boolean;
  person: boolean;
  rightsElsewhere: boolean;
}

/**
 * Why an organization admin may not issue a code to this user, if it may not. A code sets the password
 * of the user it names: as for any other change to them, an organization role does not reach users who
 * hold global rights, nor take over an account that chose its password, signs in another way, or holds
 * roles in another organization. Staff may issue all of these.
 */
function refusedToOrganizationAdmins(
  user: Partial<CodeTarget>,
  username: string,
): { error: string; message: string } | undefined {
  if (user.privileged)
    return {
      error: 'forbidden',
      message: `Only staff may issue activation codes to staff or support users ("${username}").`,
    };
  if (user.person === false)
    return {
      error: 'forbidden',
      message: `The account "${username}" signs in another way (not a person account); only staff may issue it a code.`,
    };
  if (user.activated)
    return {
      error: 'already_activated',
      message: `The account "${username}" is already activated; only staff may issue it a new code.`,
    };
  if (user.rightsElsewhere)
    return {
      error: 'forbidden',
      message: `The account "${username}" holds roles in another organization; only staff may issue it a code.`,
    };
  return undefined;
}

/** Activation records per INSERT, well under PostgreSQL's 65,535 bind parameters. */
const RECORDS_PER_INSERT = 1000;
