import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Principal } from '../../common/auth/principal';
import { foldCase } from '../../common/sql/fold-case';
import { InjectSettings } from '../../config/settings.module';
import { Settings } from '../../config/settings.schema';
import { queryRows } from '../../database/query';
import { TransactionRunner } from '../../database/transaction';
import type { AppAbility } from '../../permissions/ability';
import { requireCreateIn } from '../../permissions/access';
import { GroupsService } from '../../permissions/groups/groups.service';
import { AccountsError } from '../accounts.errors';
import { AuditService } from '../audit/audit.service';
import { sha256Hex } from '../../common/crypto/secrets';
import { Organization } from '../organizations/organization.entity';
import { UsersService } from '../users/users.service';
import { ActivationRecord } from './activation-record.entity';
import { NewActivationRecordDto } from './activation.dto';
import { newActivationCode } from './activation.service';

export interface ActivationRowResult {
  row: number;
  status: 'created' | 'error';
  id?: string;
  user?: string;
  code?: string;
  error?: string;
  message?: string;
}

/** Issues activation codes: the records of one request, for users found or created inactive. */
@Injectable()
export class ActivationCodesService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly users: UsersService,
    private readonly audit: AuditService,
    @InjectSettings() private readonly settings: Settings,
    private readonly transactions: TransactionRunner,
    private readonly groups: GroupsService,
  ) {}

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
  private async insertRecords(
    who: Principal,
    organizationId: string,
    rows: NewActivationRecordDto[],
  ): Promise<ActivationRowResult[]> {
    // Usernames are unique on lower(username): folded by the database, they are what the index compares.
    const folded = await foldCase(this.dataSource, [
      ...rows.map((r) => r.crsid),
      ...rows.map((r) => r.last_name.trim()),
    ]);
    const usernames = folded.slice(0, rows.length);
    const lastNames = folded.slice(rows.length);
    return this.transactions.run(async (tx) => {
      const users = await this.existingUsers(tx, usernames, organizationId);
      await this.createMissingUsers(tx, organizationId, rows, usernames, users);
      const { records, results } = this.issueCodes(who, organizationId, rows, usernames, lastNames, users);
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
    lastNames: string[],
    users: Map<string, TargetUser>,
  ): { records: NewRecord[]; results: ActivationRowResult[] } {
    const expiresAt = new Date(Date.now() + this.settings.ACTIVATION_CODE_TTL_DAYS * 86400_000);
    const results: ActivationRowResult[] = [];
    const records: NewRecord[] = [];
    for (const [row, input] of rows.entries()) {
      const user = users.get(usernames[row])!;
      if (!who.isStaff && user.organizationId !== organizationId) {
        // Answered as the refusals below are: nothing says the username is another organization's.
        results.push({ row, status: 'error', ...UNAVAILABLE_TO_ORGANIZATION_ADMINS });
        continue;
      }
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
        lastName: lastNames[row],
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

/** What an organization admin hears for a username it may not issue a code to, whatever the reason. */
const UNAVAILABLE_TO_ORGANIZATION_ADMINS = {
  error: 'forbidden',
  message: 'Only staff may issue an activation code to this username.',
} as const;

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
  if (user.privileged || user.person === false || user.rightsElsewhere) return UNAVAILABLE_TO_ORGANIZATION_ADMINS;
  if (user.activated)
    return {
      error: 'already_activated',
      message: `The account "${username}" is already activated; only staff may issue it a new code.`,
    };
  return undefined;
}

/** Activation records per INSERT, well under PostgreSQL's 65,535 bind parameters. */
const RECORDS_PER_INSERT = 1000;
