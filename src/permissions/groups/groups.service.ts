import type { Action } from '../subjects';
import { Injectable, OnModuleInit } from '@nestjs/common';
import { requireAccess } from '../access';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, In, Repository } from 'typeorm';
import type { Principal, PrincipalType } from '../../common/auth/principal';
import { pageOf } from '../../common/pagination/pagination';
import { TransactionRunner } from '../../database/transaction';
import { AppAbility, asSubject, missingForRole, Scope } from '../ability';
import { PermissionsError } from '../permissions.errors';
import {
  AuditActor,
  PERMISSIONS_AUDIT_EVENT,
  PermissionsAuditAction,
  PermissionsAuditEvent,
} from '../permissions.events';
import { findRole, Role, ROLES } from '../roles';
import { SubjectDirectory } from '../subject-directory.service';
import { scopeList } from '../user-has-perm';
import { CreateGroupDto, GroupQuery, UpdateGroupDto } from './dto/group.dto';
import { AddMemberDto, MemberQuery } from './dto/membership.dto';
import { GroupMembership } from './group-membership.entity';
import { Group } from './group.entity';
import { CommonError } from '../../common/errors/common.errors';
import { queryRows } from '../../database/query';

const scopeOf = (g: Group): Scope => ({ type: g.scopeType, id: g.scopeId, organizationId: g.organizationId });
const groupFields = (g: Group) => ({
  id: g.id,
  organizationId: g.organizationId,
  scopeType: g.scopeType,
  scopeId: g.scopeId,
});

/**
 * Groups and memberships. Every change checks two things: the caller may do the action on the
 * group (CASL, 404 before 403), and the caller holds every permission of the group's role at its
 * scope — nobody hands out, joins or edits more than they have. Each change emits
 * `permissions.audit` inside its transaction.
 */
@Injectable()
export class GroupsService implements OnModuleInit {
  constructor(
    @InjectRepository(Group) private readonly groups: Repository<Group>,
    private readonly transactions: TransactionRunner,
    private readonly directory: SubjectDirectory,
    private readonly events: EventEmitter2,
  ) {}

  onModuleInit(): void {
    this.directory.register('Group', async (id) => {
      const g = await this.groups.findOneBy({ id });
      return g ? groupFields(g) : null;
    });
  }

  async list(ability: AppAbility, q: GroupQuery): Promise<[Group[], number]> {
    const qb = this.groups.createQueryBuilder('g');
    scopeList(qb, ability, q.user_has_perm, 'Group', 'g');
    if (q.organization) qb.andWhere('g.organization_id = :organization', { organization: q.organization });
    if (q.scope_type) qb.andWhere('g.scope_type = :scopeType', { scopeType: q.scope_type });
    if (q.scope_id) qb.andWhere('g.scope_id = :scopeId', { scopeId: q.scope_id });
    if (q.role) qb.andWhere('g.role = :role', { role: q.role });
    qb.orderBy('g.created_at', 'ASC').addOrderBy('g.id', 'ASC');
    return pageOf(qb, q);
  }

  async get(ability: AppAbility, id: string): Promise<Group> {
    const group = await this.groups.findOneBy({ id });
    if (!group) throw new CommonError('not_found', 'Group not found.');
    requireAccess(ability, 'read', 'Group', groupFields(group));
    return group;
  }

  async create(who: Principal, ability: AppAbility, dto: CreateGroupDto): Promise<Group> {
    const role = this.roleFor(dto.role, dto.scope_type);
    const scope = await this.directory.resolveScope(dto.scope_type, dto.scope_id);
    const candidate =
      scope && asSubject('Group', { organizationId: scope.organizationId, scopeType: scope.type, scopeId: scope.id });
    // A scope the caller cannot see answers like one that does not exist.
    if (!scope || !candidate || !ability.can('read', candidate)) {
      throw new PermissionsError('unknown_scope', `No ${dto.scope_type} ${dto.scope_id}.`, {
        scope_type: dto.scope_type,
        scope_id: dto.scope_id,
      });
    }
    if (!ability.can('create', candidate))
      throw new CommonError('forbidden', `You may not create groups in this ${scope.type}.`);
    this.assertHoldsRole(ability, role, scope);
    return this.transactions.run(async (tx) => {
      // A project is read again, locked: one deleted meanwhile gets no group, and a deletion that
      // comes later waits and then deletes the new group with the others.
      if (scope.type === 'project' && !(await this.directory.accounts().resolveProject(scope.id, tx))) {
        throw new PermissionsError('unknown_scope', `No ${dto.scope_type} ${dto.scope_id}.`, {
          scope_type: dto.scope_type,
          scope_id: dto.scope_id,
        });
      }
      const group = await tx.getRepository(Group).save(
        tx.getRepository(Group).create({
          organizationId: scope.organizationId,
          name: dto.name,
          scopeType: scope.type,
          scopeId: scope.id,
          role: role.name,
          description: dto.description ?? '',
        }),
      );
      await this.audit(tx, who, 'group.created', group, { name: group.name });
      return group;
    });
  }

  async update(who: Principal, ability: AppAbility, id: string, dto: UpdateGroupDto): Promise<Group> {
    return this.transactions.run(async (tx) => {
      const group = await this.lockForChange(tx, ability, id, 'update');
      const changes: Record<string, { from: string; to: string }> = {};
      if (dto.role !== undefined && dto.role !== group.role) {
        const role = this.roleFor(dto.role, group.scopeType);
        this.assertHoldsRole(ability, role, scopeOf(group));
        changes.role = { from: group.role, to: role.name };
        group.role = role.name;
      }
      // null leaves a field as it is, as in the other PATCH routes; the columns are NOT NULL.
      if (dto.name != null && dto.name !== group.name) {
        changes.name = { from: group.name, to: dto.name };
        group.name = dto.name;
      }
      if (dto.description != null && dto.description !== group.description) {
        changes.description = { from: group.description, to: dto.description };
        group.description = dto.description;
      }
      if (Object.keys(changes).length === 0) return group;
      const saved = await tx.getRepository(Group).save(group);
      await this.audit(tx, who, 'group.updated', saved, { changes });
      return saved;
    });
  }

  async remove(who: Principal, ability: AppAbility, id: string): Promise<void> {
    await this.transactions.run(async (tx) => {
      const group = await this.lockForChange(tx, ability, id, 'delete');
      const members = await tx
        .getRepository(GroupMembership)
        .find({ where: { groupId: id }, order: { createdAt: 'ASC' } });
      await tx.getRepository(Group).delete({ id });
      await this.audit(tx, who, 'group.deleted', group, {
        name: group.name,
        revoked: members.map((m) => ({ principal_type: m.principalType, principal_id: m.principalId })),
      });
    });
  }

  /**
   * Deletes every group of a scope that is going away (a deleted project), in the caller's
   * transaction, auditing each revocation: nobody keeps rights on what no longer exists.
   */
  async removeScopeGroups(
    who: Principal,
    scopeType: Scope['type'],
    scopeId: string,
    tx: EntityManager,
  ): Promise<number> {
    // Locked like every other change to a group, so a member added at the same moment is either in
    // the revocations listed below or refused (404) once the group is gone.
    const groups = await tx
      .getRepository(Group)
      .find({ where: { scopeType, scopeId }, order: { createdAt: 'ASC' }, lock: { mode: 'pessimistic_write' } });
    for (const group of groups) {
      const members = await tx
        .getRepository(GroupMembership)
        .find({ where: { groupId: group.id }, order: { createdAt: 'ASC' } });
      await tx.getRepository(Group).delete({ id: group.id });
      await this.audit(tx, who, 'group.deleted', group, {
        name: group.name,
        reason: `${scopeType} deleted`,
        revoked: members.map((m) => ({ principal_type: m.principalType, principal_id: m.principalId })),
      });
    }
    return groups.length;
  }

  /**
   * Creates groups at a scope with no access check, in `tx`: for groups the system makes on its own
   * (the role groups of a course project an LMS launch created). Each is audited as `group.created`
   * by `actor`. Returns their ids in the order given.
   */
  async createScopeGroups(
    scope: Scope,
    groups: readonly { name: string; role: string; description?: string }[],
    actor: AuditActor,
    tx: EntityManager,
  ): Promise<string[]> {
    const ids: string[] = [];
    for (const g of groups) {
      this.roleFor(g.role, scope.type);
      const group = await tx.save(
        Group,
        tx.create(Group, {
          organizationId: scope.organizationId,
          scopeType: scope.type,
          scopeId: scope.id,
          name: g.name,
          role: g.role,
          description: g.description ?? '',
        }),
      );
      await this.audit(tx, actor, 'group.created', group, { name: group.name });
      ids.push(group.id);
    }
    return ids;
  }

  /**
   * Makes a principal a member (without expiry) of exactly `target` among `groupIds`, in one
   * statement: its memberships of the other groups are removed, and `target` (null: none) is added or
   * its expiry cleared. Nothing is written when it is already so. No access check: for memberships the
   * system keeps in line with another source (an LMS's roles). Each change is audited by `actor`.
   */
  async setMembershipAmong(
    principal: { type: PrincipalType; id: string },
    groupIds: readonly string[],
    target: string | null,
    actor: AuditActor,
    tx: EntityManager,
  ): Promise<{ added: string | null; removed: string[] }> {
    const rows: { kind: 'added' | 'removed'; group_id: string }[] = await tx.query(
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
    const added = rows.find((r) => r.kind === 'added')?.group_id ?? null;
    const removed = rows.filter((r) => r.kind === 'removed').map((r) => r.group_id);
    if (rows.length > 0) {
      const groups = new Map(
        (await tx.getRepository(Group).findBy({ id: In(rows.map((r) => r.group_id)) })).map((g) => [g.id, g]),
      );
      const member = { principal_type: principal.type, principal_id: principal.id };
      for (const id of removed) {
        const group = groups.get(id);
        if (group) await this.audit(tx, actor, 'group.member_removed', group, { ...member, expires_at: null });
      }
      const group = added ? groups.get(added) : undefined;
      if (group) await this.audit(tx, actor, 'group.member_added', group, { ...member, expires_at: null });
    }
    return { added, removed };
  }

  async members(ability: AppAbility, id: string, q: MemberQuery): Promise<[GroupMembership[], number]> {
    await this.get(ability, id);
    const qb = this.groups.manager
      .getRepository(GroupMembership)
      .createQueryBuilder('m')
      .where('m.group_id = :id', { id })
      .orderBy('m.created_at', 'ASC')
      .addOrderBy('m.id', 'ASC');
    return pageOf(qb, q);
  }

  async addMember(who: Principal, ability: AppAbility, id: string, dto: AddMemberDto): Promise<GroupMembership> {
    const principal = await this.directory.accounts().resolvePrincipal(dto.principal_type, dto.principal_id);
    return this.transactions.run(async (tx) => {
      const group = await this.lockForChange(tx, ability, id, 'manage_members');
      // Outside staff, a principal of another organization (users of none may join) is refused exactly
      // as one that does not exist: the answer tells nothing about other organizations, and nobody is pulled into a
      // group of an organization they do not belong to.
      if (
        !principal ||
        (!who.isStaff && principal.organizationId !== null && principal.organizationId !== group.organizationId)
      ) {
        throw new PermissionsError(
          'unknown_principal',
          `No ${dto.principal_type} ${dto.principal_id} in this organization.`,
          {
            principal_type: dto.principal_type,
            principal_id: dto.principal_id,
          },
        );
      }
      if (dto.principal_type === 'service_account' && principal.organizationId !== group.organizationId) {
        throw new PermissionsError(
          'principal_outside_organization',
          'A service account may only join groups of its own organization.',
        );
      }
      const expiresAt = dto.expires_at ? new Date(dto.expires_at) : null;
      const inserted = await tx
        .createQueryBuilder()
        .insert()
        .into(GroupMembership)
        .values({ groupId: id, principalType: dto.principal_type, principalId: dto.principal_id, expiresAt })
        .orIgnore()
        .returning('*')
        .execute();
      if (inserted.raw.length === 0) {
        throw new PermissionsError('already_member', 'Already a member; change the expiry with PATCH.', {
          principal_type: dto.principal_type,
          principal_id: dto.principal_id,
        });
      }
      await this.audit(tx, who, 'group.member_added', group, {
        principal_type: dto.principal_type,
        principal_id: dto.principal_id,
        expires_at: expiresAt,
      });
      return tx
        .getRepository(GroupMembership)
        .findOneByOrFail({ groupId: id, principalType: dto.principal_type, principalId: dto.principal_id });
    });
  }

  async updateMember(
    who: Principal,
    ability: AppAbility,
    id: string,
    principalType: PrincipalType,
    principalId: string,
    expiresAtIso: string | null,
  ): Promise<GroupMembership> {
    return this.transactions.run(async (tx) => {
      const group = await this.lockForChange(tx, ability, id, 'manage_members');
      const repo = tx.getRepository(GroupMembership);
      const membership = await repo.findOneBy({ groupId: id, principalType, principalId });
      if (!membership) throw new CommonError('not_found', 'Membership not found.');
      const expiresAt = expiresAtIso === null ? null : new Date(expiresAtIso);
      const from = membership.expiresAt;
      if ((from?.getTime() ?? null) === (expiresAt?.getTime() ?? null)) return membership;
      membership.expiresAt = expiresAt;
      const saved = await repo.save(membership);
      await this.audit(tx, who, 'group.member_expiry_changed', group, {
        principal_type: principalType,
        principal_id: principalId,
        from,
        to: expiresAt,
      });
      return saved;
    });
  }

  async removeMember(
    who: Principal,
    ability: AppAbility,
    id: string,
    principalType: PrincipalType,
    principalId: string,
  ): Promise<void> {
    await this.transactions.run(async (tx) => {
      const group = await this.lockForChange(tx, ability, id, 'manage_members');
      const deleted = await tx
        .createQueryBuilder()
        .delete()
        .from(GroupMembership)
        .where('group_id = :id AND principal_type = :principalType AND principal_id = :principalId', {
          id,
          principalType,
          principalId,
        })
        .returning('*')
        .execute();
      if (!deleted.affected) throw new CommonError('not_found', 'Membership not found.');
      await this.audit(tx, who, 'group.member_removed', group, {
        principal_type: principalType,
        principal_id: principalId,
        expires_at: (deleted.raw[0] as { expires_at: Date | null }).expires_at,
      });
    });
  }

  /**
   * Removes every membership of a principal (its account is being deleted). Not audited per group:
   * the caller audits the deletion of the account.
   */
  async removePrincipal(principalType: PrincipalType, principalId: string, tx?: EntityManager): Promise<number> {
    const result = await (tx ?? this.groups.manager)
      .getRepository(GroupMembership)
      .delete({ principalType, principalId });
    return result.affected ?? 0;
  }

  /** Loads the group FOR UPDATE (so concurrent role changes and grants serialize) and checks the caller may change it. */
  /** Of these principals, those holding a membership of a group outside `organizationId` (expired ones too). */
  async membersOutside(
    principalType: PrincipalType,
    principalIds: string[],
    organizationId: string,
    tx?: EntityManager,
  ): Promise<Set<string>> {
    if (principalIds.length === 0) return new Set();
    const rows = await queryRows<{ id: string }>(
      tx ?? this.groups.manager,
      `SELECT DISTINCT m.principal_id AS id FROM group_memberships m JOIN groups g ON g.id = m.group_id
        WHERE m.principal_type = $1 AND m.principal_id = ANY($2::uuid[]) AND g.organization_id <> $3`,
      [principalType, principalIds, organizationId],
    );
    return new Set(rows.map((r) => r.id));
  }

  private async lockForChange(tx: EntityManager, ability: AppAbility, id: string, action: Action): Promise<Group> {
    const group = await tx
      .getRepository(Group)
      .createQueryBuilder('g')
      .setLock('pessimistic_write')
      .where('g.id = :id', { id })
      .getOne();
    if (!group) throw new CommonError('not_found', 'Group not found.');
    requireAccess(ability, action, 'Group', groupFields(group));
    const role = findRole(group.role);
    if (role) this.assertHoldsRole(ability, role, scopeOf(group));
    return group;
  }

  private roleFor(name: string, scopeType: Scope['type']): Role {
    const role = findRole(name);
    const fitting = ROLES.filter((r) => r.scopeType === scopeType).map((r) => r.name);
    if (!role) throw new PermissionsError('unknown_role', `No role "${name}".`, { roles: fitting });
    if (role.scopeType !== scopeType) {
      throw new PermissionsError(
        'role_scope_mismatch',
        `${role.name} is a ${role.scopeType} role; a ${scopeType} group needs one of its own scope.`,
        {
          role: role.name,
          role_scope_type: role.scopeType,
          scope_type: scopeType,
          roles: fitting,
        },
      );
    }
    return role;
  }

  private assertHoldsRole(ability: AppAbility, role: Role, scope: Scope): void {
    const missing = missingForRole(ability, role, scope);
    if (missing.length > 0) {
      throw new PermissionsError(
        'role_escalation',
        `You do not hold every permission of ${role.name} here, so you cannot hand it out or manage its groups.`,
        {
          role: role.name,
          missing,
        },
      );
    }
  }

  private async audit(
    tx: EntityManager,
    actor: AuditActor,
    action: PermissionsAuditAction,
    group: Group,
    data: Record<string, unknown>,
  ): Promise<void> {
    const event: PermissionsAuditEvent = {
      action,
      actor,
      subjectType: 'Group',
      subjectId: group.id,
      organizationId: group.organizationId,
      data: { role: group.role, scope_type: group.scopeType, scope_id: group.scopeId, ...data },
      manager: tx,
    };
    await this.events.emitAsync(PERMISSIONS_AUDIT_EVENT, event);
  }
}
