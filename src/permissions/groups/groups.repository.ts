import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, In, Repository } from 'typeorm';
import type { PrincipalType } from '../../common/auth/principal';
import { Listed, pageOf, PageQuery } from '../../common/pagination/pagination';
import { queryRows } from '../../database/query';
import type { AppAbility } from '../ability';
import { isScopeType, ScopeType } from '../subjects';
import { scopeList } from '../user-has-perm';
import type { GroupQuery } from './dto/group.dto';
import { GroupMembership } from './group-membership.entity';
import { Group } from './group.entity';

/** A group as a change writes it. */
export type NewGroup = Pick<Group, 'organizationId' | 'name' | 'scopeType' | 'scopeId' | 'role' | 'description'>;

/** A principal and its part of a membership row. */
export interface MemberKey {
  principalType: PrincipalType;
  principalId: string;
}

/**
 * The `groups` and `group_memberships` tables: the only SQL on them. Methods taking `tx` run in the
 * caller's transaction; the others on the pool.
 */
@Injectable()
export class GroupsRepository {
  constructor(@InjectRepository(Group) private readonly groups: Repository<Group>) {}

  private manager(tx?: EntityManager): EntityManager {
    return tx ?? this.groups.manager;
  }

  findById(id: string): Promise<Group | null> {
    return this.groups.findOneBy({ id });
  }

  /** One page of the groups the ability may read, filtered as the query asks; scoped in SQL. */
  page(ability: AppAbility, q: GroupQuery): Promise<Listed<Group>> {
    const qb = this.groups.createQueryBuilder('g');
    scopeList(qb, ability, q.user_has_perm, 'Group', 'g');
    if (q.organization) qb.andWhere('g.organization_id = :organization', { organization: q.organization });
    if (q.scope_type) qb.andWhere('g.scope_type = :scopeType', { scopeType: q.scope_type });
    if (q.scope_id) qb.andWhere('g.scope_id = :scopeId', { scopeId: q.scope_id });
    if (q.role) qb.andWhere('g.role = :role', { role: q.role });
    qb.orderBy('g.created_at', 'ASC').addOrderBy('g.id', 'ASC');
    return pageOf(qb, q);
  }

  /** The group, locked (FOR UPDATE) in `tx`, so concurrent role changes and grants serialize. */
  lockForUpdate(tx: EntityManager, id: string): Promise<Group | null> {
    return tx
      .getRepository(Group)
      .createQueryBuilder('g')
      .setLock('pessimistic_write')
      .where('g.id = :id', { id })
      .getOne();
  }

  /** Every group of a scope, oldest first, locked (FOR UPDATE) in `tx`. */
  lockScopeGroups(tx: EntityManager, scopeType: ScopeType, scopeId: string): Promise<Group[]> {
    return tx
      .getRepository(Group)
      .find({ where: { scopeType, scopeId }, order: { createdAt: 'ASC' }, lock: { mode: 'pessimistic_write' } });
  }

  findByIds(tx: EntityManager, ids: string[]): Promise<Group[]> {
    return tx.getRepository(Group).findBy({ id: In(ids) });
  }

  insert(tx: EntityManager, group: NewGroup): Promise<Group> {
    return tx.getRepository(Group).save(tx.getRepository(Group).create(group));
  }

  save(tx: EntityManager, group: Group): Promise<Group> {
    return tx.getRepository(Group).save(group);
  }

  /** Deletes the group and (ON DELETE CASCADE) its memberships. */
  async delete(tx: EntityManager, id: string): Promise<void> {
    await tx.getRepository(Group).delete({ id });
  }

  /** The group's memberships, oldest first. */
  membershipsOf(tx: EntityManager, groupId: string): Promise<GroupMembership[]> {
    return tx.getRepository(GroupMembership).find({ where: { groupId }, order: { createdAt: 'ASC' } });
  }

  /** One page of the group's memberships, oldest first. */
  membershipPage(groupId: string, q: PageQuery): Promise<Listed<GroupMembership>> {
    const qb = this.groups.manager
      .getRepository(GroupMembership)
      .createQueryBuilder('m')
      .where('m.group_id = :groupId', { groupId })
      .orderBy('m.created_at', 'ASC')
      .addOrderBy('m.id', 'ASC');
    return pageOf(qb, q);
  }

  findMembership(tx: EntityManager, groupId: string, member: MemberKey): Promise<GroupMembership | null> {
    return tx.getRepository(GroupMembership).findOneBy({ groupId, ...member });
  }

  /** Adds the membership; null when the principal already is a member. */
  async insertMembership(
    tx: EntityManager,
    groupId: string,
    member: MemberKey,
    expiresAt: Date | null,
  ): Promise<GroupMembership | null> {
    const inserted = await tx
      .createQueryBuilder()
      .insert()
      .into(GroupMembership)
      .values({ groupId, ...member, expiresAt })
      .orIgnore()
      .returning('*')
      .execute();
    if (inserted.raw.length === 0) return null;
    return tx.getRepository(GroupMembership).findOneByOrFail({ groupId, ...member });
  }

  saveMembership(tx: EntityManager, membership: GroupMembership): Promise<GroupMembership> {
    return tx.getRepository(GroupMembership).save(membership);
  }

  /** Deletes the membership; returns its expiry as it was, or undefined when there was none. */
  async deleteMembership(
    tx: EntityManager,
    groupId: string,
    member: MemberKey,
  ): Promise<{ expiresAt: Date | null } | undefined> {
    const deleted = await tx
      .createQueryBuilder()
      .delete()
      .from(GroupMembership)
      .where('group_id = :groupId AND principal_type = :principalType AND principal_id = :principalId', {
        groupId,
        ...member,
      })
      .returning('*')
      .execute();
    if (!deleted.affected) return undefined;
    return { expiresAt: (deleted.raw[0] as { expires_at: Date | null }).expires_at };
  }

  /** Deletes every membership of a principal; the number deleted. */
  async deletePrincipal(member: MemberKey, tx?: EntityManager): Promise<number> {
    const result = await this.manager(tx).getRepository(GroupMembership).delete(member);
    return result.affected ?? 0;
  }

  /**
   * Makes the principal a member (without expiry) of exactly `target` among `groupIds`, in one
   * statement; the groups it left and the one it joined (or whose expiry it cleared).
   */
  async setMembershipAmong(
    tx: EntityManager,
    principal: { type: PrincipalType; id: string },
    groupIds: readonly string[],
    target: string | null,
  ): Promise<{ added: string | null; removed: string[] }> {
    const rows = await queryRows<{ kind: 'added' | 'removed'; group_id: string }>(
      tx,
      `WITH removed AS (
         DELETE FROM group_memberships
         WHERE principal_type = $1 AND principal_id = $2 AND group_id = ANY($3::uuid[])
           AND group_id IS DISTINCT FROM $4::uuid
         RETURNING group_id),
       added AS (
         INSERT INTO group_memberships (group_id, principal_type, principal_id, expires_at)
         SELECT $4::uuid, $1, $2, NULL WHERE $4::uuid IS NOT NULL
         ON CONFLICT (group_id, principal_type, principal_id)
           DO UPDATE SET expires_at = NULL, updated_at = now() WHERE group_memberships.expires_at IS NOT NULL
         RETURNING group_id)
       SELECT 'removed' AS kind, group_id FROM removed
       UNION ALL SELECT 'added' AS kind, group_id FROM added`,
      [principal.type, principal.id, [...groupIds], target],
    );
    return {
      added: rows.find((r) => r.kind === 'added')?.group_id ?? null,
      removed: rows.filter((r) => r.kind === 'removed').map((r) => r.group_id),
    };
  }

  /** Of these principals, those holding a membership of a group outside `organizationId` (expired ones too). */
  async membersOutside(
    principalType: PrincipalType,
    principalIds: string[],
    organizationId: string,
    tx?: EntityManager,
  ): Promise<Set<string>> {
    if (principalIds.length === 0) return new Set();
    const rows = await queryRows<{ id: string }>(
      this.manager(tx),
      `SELECT DISTINCT m.principal_id AS id FROM group_memberships m JOIN groups g ON g.id = m.group_id
        WHERE m.principal_type = $1 AND m.principal_id = ANY($2::uuid[]) AND g.organization_id <> $3`,
      [principalType, principalIds, organizationId],
    );
    return new Set(rows.map((r) => r.id));
  }

  /**
   * SQL text of a subquery: the live (unexpired) memberships of the groups at one scope, one row per
   * membership — `principal_type`, `principal_id`, `role`, `group_id`, `group_name`, `expires_at`.
   * `scopeId` is an SQL expression (a parameter of the statement it goes into).
   */
  scopeMembershipsSql(scopeType: ScopeType, scopeId: string): string {
    if (!isScopeType(scopeType)) throw new Error(`not a scope type: ${String(scopeType)}`);
    return `SELECT m.principal_type, m.principal_id, g.role, g.id AS group_id, g.name AS group_name, m.expires_at
      FROM groups g JOIN group_memberships m ON m.group_id = g.id
      WHERE g.scope_type = '${scopeType}' AND g.scope_id = ${scopeId} AND (m.expires_at IS NULL OR m.expires_at > now())`;
  }

  /** Principals of a type holding an unexpired membership of a group with `role` at a scope. */
  async holdersOf(
    role: string,
    scopeType: string,
    scopeId: string,
    principalType: PrincipalType,
    tx?: EntityManager,
  ): Promise<string[]> {
    const rows = await queryRows<{ id: string }>(
      this.manager(tx),
      `SELECT DISTINCT m.principal_id AS id FROM group_memberships m JOIN groups g ON g.id = m.group_id
        WHERE g.role = $1 AND g.scope_type = $2 AND g.scope_id = $3 AND m.principal_type = $4
          AND (m.expires_at IS NULL OR m.expires_at > now())
        ORDER BY m.principal_id`,
      [role, scopeType, scopeId, principalType],
    );
    return rows.map((r) => r.id);
  }
}
