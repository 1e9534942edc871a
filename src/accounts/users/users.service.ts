import { Injectable } from '@nestjs/common';
import { requireAccess, requireCreateIn, requireEverywhere } from '../../permissions/access';
import { containsPattern } from '../../common/sql/contains-pattern';
import { randomUUID } from 'node:crypto';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import type { Principal } from '../../common/auth/principal';
import { isUniqueViolation } from '../../common/errors/database-errors';
import { pageOf } from '../../common/pagination/pagination';
import { TransactionRunner } from '../../database/transaction';
import type { AppAbility } from '../../permissions/ability';
import { scopeList } from '../../permissions/user-has-perm';
import { asSubject } from '../../permissions/ability';
import { UsersRepository } from './users.repository';
import { AccountsError } from '../accounts.errors';
import { AuditService } from '../audit/audit.service';
import { Organization } from '../organizations/organization.entity';
import { hashPassword } from './passwords';
import { CreateUserDto, UpdateUserDto, UserQuery } from './user.dto';
import { User } from './user.entity';
import type { NewUser } from './user.types';
import { CommonError } from '../../common/errors/common.errors';

export type { NewUser };

/** PostgreSQL's limit on the bind parameters of one statement. */
const MAX_BIND_PARAMETERS = 65_535;

async function userValues(data: NewUser): Promise<Omit<User, 'id' | 'createdAt' | 'updatedAt' | 'lastLoginAt'>> {
  return {
    username: data.username,
    email: data.email ?? null,
    firstName: data.firstName ?? '',
    lastName: data.lastName ?? '',
    organizationId: data.organizationId ?? null,
    kind: data.kind ?? 'person',
    source: data.source ?? 'local',
    passwordHash: data.password ? await hashPassword(data.password) : null,
    isStaff: data.isStaff ?? false,
    isSupport: data.isSupport ?? false,
    isActive: data.isActive ?? true,
  };
}

function duplicateUsername(username?: string) {
  return username
    ? new AccountsError('duplicate_username', `The username "${username}" is taken.`, { username })
    : new AccountsError('duplicate_username', 'A username is taken.');
}

@Injectable()
export class UsersService {
  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
    private readonly tx: TransactionRunner,
    private readonly audit: AuditService,
    private readonly rows: UsersRepository,
  ) {}

  /** Inserts a user (used by admins, the bootstrap, external issuers, course accounts and LTI). */
  async insert(data: NewUser, tx?: EntityManager): Promise<User> {
    const manager = tx ?? this.users.manager;
    try {
      return await manager.save(User, manager.create(User, await userValues(data)));
    } catch (e) {
      if (isUniqueViolation(e)) throw duplicateUsername(data.username);
      throw e;
    }
  }

  /**
   * Inserts many users with one multi-row INSERT (several only past PostgreSQL's bind-parameter
   * limit), in `tx` when given. Returns their ids in the order of `rows`. A taken username fails the
   * whole statement (409 `duplicate_username`).
   */
  async insertMany(rows: readonly NewUser[], tx?: EntityManager): Promise<string[]> {
    if (rows.length === 0) return [];
    const manager = tx ?? this.users.manager;
    // Ids are made here, not by the database, so they match `rows` without relying on RETURNING order.
    const values = await Promise.all(rows.map(async (row) => ({ id: randomUUID(), ...(await userValues(row)) })));
    // Each column of a row is at most one parameter.
    const chunk = Math.floor(MAX_BIND_PARAMETERS / this.users.metadata.columns.length);
    try {
      for (let i = 0; i < values.length; i += chunk) {
        await manager
          .createQueryBuilder()
          .insert()
          .into(User)
          .values(values.slice(i, i + chunk))
          .updateEntity(false)
          .execute();
      }
    } catch (e) {
      if (isUniqueViolation(e)) throw duplicateUsername(values.length === 1 ? values[0].username : undefined);
      throw e;
    }
    return values.map((v) => v.id);
  }

  /** Deactivates the users in one UPDATE, in `tx` when given (a closed course account's user, say). */
  async deactivate(ids: readonly string[], tx?: EntityManager): Promise<void> {
    if (ids.length === 0) return;
    await (tx ?? this.users.manager)
      .createQueryBuilder()
      .update(User)
      .set({ isActive: false })
      .where('id = ANY(:ids)', { ids: [...ids] })
      .execute();
  }

  /** Active again (a course account brought back by staff); in `tx` when given. */
  async reactivate(ids: readonly string[], tx?: EntityManager): Promise<void> {
    if (ids.length === 0) return;
    await (tx ?? this.users.manager)
      .createQueryBuilder()
      .update(User)
      .set({ isActive: true })
      .where('id = ANY(:ids)', { ids: [...ids] })
      .execute();
  }

  /**
   * For password login: by username or e-mail, case-insensitively, with the password hash. Accounts
   * that have a password come first, so an account without one (an external or LTI user whose
   * username happens to be someone's e-mail address) cannot shadow that person's e-mail login.
   */
  findForLogin(login: string): Promise<User | null> {
    return this.users
      .createQueryBuilder('u')
      .addSelect('u.passwordHash')
      .where('lower(u.username) = lower(:login)', { login })
      .orWhere('lower(u.email) = lower(:login)', { login })
      .orderBy('(u.password_hash IS NOT NULL)', 'DESC')
      .addOrderBy('(lower(u.username) = lower(:login))', 'DESC')
      .limit(1)
      .getOne();
  }

  /** The first of `candidates` no user has (usernames compare case-insensitively), in one query; null when all are taken. */
  async freeUsername(candidates: readonly string[], tx?: EntityManager): Promise<string | null> {
    if (candidates.length === 0) return null;
    const names = await this.rows.takenUsernames(
      tx ?? this.users.manager,
      candidates.map((c) => c.toLowerCase()),
    );
    return candidates.find((c) => !names.has(c.toLowerCase())) ?? null;
  }

  /**
   * Brings a user's e-mail and names in line with what its identity provider says, in one statement:
   * `undefined` fields are left as they are. Never touches the flags (staff, support, active). Returns
   * the user's state after the change and the fields that changed (API names), or null for no such
   * user. The caller audits the change (it knows where it came from).
   */
  async syncProfile(
    id: string,
    profile: { email?: string | null; firstName?: string; lastName?: string },
    tx?: EntityManager,
  ): Promise<{
    user: Pick<User, 'id' | 'username' | 'email' | 'firstName' | 'lastName' | 'isActive'>;
    changed: string[];
  } | null> {
    const row = await this.rows.syncProfile(
      tx ?? this.users.manager,
      id,
      profile.email !== undefined,
      profile.email ?? null,
      profile.firstName ?? null,
      profile.lastName ?? null,
    );
    if (!row) return null;
    const changed = [
      row.email !== row.old_email ? 'email' : null,
      row.first_name !== row.old_first_name ? 'first_name' : null,
      row.last_name !== row.old_last_name ? 'last_name' : null,
    ].filter((f): f is string => f !== null);
    return {
      user: {
        id: row.id,
        username: row.username,
        email: row.email,
        firstName: row.first_name,
        lastName: row.last_name,
        isActive: row.is_active,
      },
      changed,
    };
  }

  findById(id: string): Promise<User | null> {
    return this.users.findOneBy({ id });
  }

  /** The e-mail addresses of the active users among `ids` that have one (no access check: for system notices). */
  async emailsOf(ids: readonly string[]): Promise<{ id: string; email: string }[]> {
    if (ids.length === 0) return [];
    const users = await this.users
      .createQueryBuilder('u')
      .select(['u.id', 'u.email'])
      .where('u.id IN (:...ids)', { ids })
      .andWhere('u.is_active = true')
      .andWhere('u.email IS NOT NULL')
      .orderBy('u.id', 'ASC')
      .getMany();
    return users.filter((u) => u.email).map((u) => ({ id: u.id, email: u.email! }));
  }

  count(): Promise<number> {
    return this.users.count();
  }

  countInOrganization(organizationId: string): Promise<number> {
    return this.users.countBy({ organizationId });
  }

  /**
   * An organization's users a page at a time, in id order (keyset pagination: every page is one
   * index range scan), for exports that must never hold all rows in memory. No access check: callers
   * check the organization first.
   */
  async *pagesInOrganization(organizationId: string, pageSize = 1000): AsyncGenerator<User[]> {
    let after: string | undefined;
    for (;;) {
      const qb = this.users
        .createQueryBuilder('u')
        .where('u.organization_id = :organizationId', { organizationId })
        .orderBy('u.id', 'ASC')
        .limit(pageSize);
      if (after) qb.andWhere('u.id > :after', { after });
      const page = await qb.getMany();
      if (page.length > 0) yield page;
      if (page.length < pageSize) return;
      after = page[page.length - 1].id;
    }
  }

  async setPassword(userId: string, password: string, tx?: EntityManager): Promise<void> {
    await (tx ?? this.users.manager).update(
      User,
      { id: userId },
      { passwordHash: await hashPassword(password), isActive: true },
    );
  }

  async list(ability: AppAbility, q: UserQuery): Promise<[User[], number]> {
    const qb = this.users.createQueryBuilder('u').orderBy('lower(u.username)', 'ASC').addOrderBy('u.id', 'ASC');
    scopeList(qb, ability, q.user_has_perm, 'User', 'u');
    if (q.organization) qb.andWhere('u.organization_id = :org', { org: q.organization });
    if (q.kind) qb.andWhere('u.kind = :kind', { kind: q.kind });
    if (q.search) {
      qb.andWhere("(u.username ILIKE :s OR u.email ILIKE :s OR (u.first_name || ' ' || u.last_name) ILIKE :s)", {
        s: containsPattern(q.search),
      });
    }
    return pageOf(qb, q);
  }

  async get(ability: AppAbility, id: string): Promise<User> {
    return requireAccess(ability, 'read', 'User', await this.users.findOneBy({ id }));
  }

  async create(who: Principal, ability: AppAbility, dto: CreateUserDto): Promise<User> {
    // Global flags are for whoever may create users everywhere: staff (ability.ts).
    if (dto.is_staff || dto.is_support) requireEverywhere(ability, 'create', 'User', 'create staff or support users');
    if (dto.organization) {
      const org = await this.users.manager.findOneBy(Organization, { id: dto.organization });
      requireCreateIn(ability, 'User', dto.organization, Boolean(org));
    } else if (!ability.can('create', asSubject('User', { organizationId: null }))) {
      throw new CommonError('forbidden', 'Only staff may create users outside an organization.');
    }
    return this.tx.run(async (tx) => {
      const user = await this.insert(
        {
          username: dto.username,
          email: dto.email,
          firstName: dto.first_name,
          lastName: dto.last_name,
          organizationId: dto.organization ?? null,
          password: dto.password,
          isStaff: dto.is_staff,
          isSupport: dto.is_support,
        },
        tx,
      );
      await this.audit.record(
        {
          action: 'user.created',
          actor: who,
          subjectType: 'User',
          subjectId: user.id,
          organizationId: user.organizationId,
          data: { username: user.username },
        },
        tx,
      );
      return user;
    });
  }

  async update(who: Principal, ability: AppAbility, id: string, dto: UpdateUserDto): Promise<User> {
    return this.tx.run(async (tx) => {
      const u = requireAccess(ability, 'update', 'User', await this.rows.lockForUpdate(tx, id));
      if (dto.is_staff !== undefined || dto.is_support !== undefined)
        requireEverywhere(ability, 'update', 'User', 'change staff or support flags');
      // An organization role must not reach users who hold global rights (no lock-out of staff).
      if (u.isStaff || u.isSupport) requireEverywhere(ability, 'update', 'User', 'change staff or support users');
      const saved = await tx.save(User, {
        ...u,
        email: dto.email ?? u.email,
        firstName: dto.first_name ?? u.firstName,
        lastName: dto.last_name ?? u.lastName,
        isActive: dto.is_active ?? u.isActive,
        isStaff: dto.is_staff ?? u.isStaff,
        isSupport: dto.is_support ?? u.isSupport,
      });
      await this.audit.record(
        {
          action: 'user.updated',
          actor: who,
          subjectType: 'User',
          subjectId: id,
          organizationId: u.organizationId,
          data: { ...dto },
        },
        tx,
      );
      return saved;
    });
  }
}
