import type { Action, ScopeType } from '../subjects';
import { Injectable, OnModuleInit } from '@nestjs/common';
import { requireAccess } from '../access';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { EntityManager } from 'typeorm';
import type { Principal, PrincipalType } from '../../common/auth/principal';
import type { Listed } from '../../common/pagination/pagination';
import { TransactionRunner } from '../../database/transaction';
import { AppAbility, asSubject, Scope } from '../ability';
import { PermissionsError } from '../permissions.errors';
import type { AuditActor, PermissionsAuditAction } from '../permissions.events';
import { SubjectDirectory } from '../subject-directory.service';
import { CreateGroupDto, GroupQuery, UpdateGroupDto } from './dto/group.dto';
import { emitGroupAudit } from './group-audit';
import { assertHoldsRole, groupFields, lockForChange, roleFor, scopeOf } from './group-rules';
import { Group } from './group.entity';
import { GroupsRepository } from './groups.repository';
import { CommonError } from '../../common/errors/common.errors';

/**
 * Groups, and the memberships the system keeps itself (scope groups, LMS roles, deleted principals);
 * the members routes are MembershipsService's, the SQL GroupsRepository's. Every change checks two things: the caller may do the action on the
 * group (CASL, 404 before 403), and the caller holds every permission of the group's role at its
 * scope — nobody hands out, joins or edits more than they have. Each change emits
 * `permissions.audit` inside its transaction.
 */
@Injectable()
export class GroupsService implements OnModuleInit {
  constructor(
    private readonly groups: GroupsRepository,
    private readonly transactions: TransactionRunner,
    private readonly directory: SubjectDirectory,
    private readonly events: EventEmitter2,
  ) {}

  onModuleInit(): void {
    this.directory.register('Group', async (id) => {
      const g = await this.groups.findById(id);
      return g ? groupFields(g) : null;
    });
  }

  list(ability: AppAbility, q: GroupQuery): Promise<Listed<Group>> {
    return this.groups.page(ability, q);
  }

  async get(ability: AppAbility, id: string): Promise<Group> {
    const group = await this.groups.findById(id);
    if (!group) throw new CommonError('not_found', 'Group not found.');
    requireAccess(ability, 'read', 'Group', groupFields(group));
    return group;
  }

  async create(who: Principal, ability: AppAbility, dto: CreateGroupDto): Promise<Group> {
    const role = roleFor(dto.role, dto.scope_type);
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
    assertHoldsRole(ability, role, scope);
    return this.transactions.run(async (tx) => {
      // A project is read again, locked: one deleted meanwhile gets no group, and a deletion that
      // comes later waits and then deletes the new group with the others.
      if (scope.type === 'project' && !(await this.directory.accounts().resolveProject(scope.id, tx))) {
        throw new PermissionsError('unknown_scope', `No ${dto.scope_type} ${dto.scope_id}.`, {
          scope_type: dto.scope_type,
          scope_id: dto.scope_id,
        });
      }
      const group = await this.groups.insert(tx, {
        organizationId: scope.organizationId,
        name: dto.name,
        scopeType: scope.type,
        scopeId: scope.id,
        role: role.name,
        description: dto.description ?? '',
      });
      await this.audit(tx, who, 'group.created', group, { name: group.name });
      return group;
    });
  }

  async update(who: Principal, ability: AppAbility, id: string, dto: UpdateGroupDto): Promise<Group> {
    return this.transactions.run(async (tx) => {
      const group = await this.lockForChange(tx, ability, id, 'update');
      const changes: Record<string, { from: string; to: string }> = {};
      if (dto.role !== undefined && dto.role !== group.role) {
        const role = roleFor(dto.role, group.scopeType);
        assertHoldsRole(ability, role, scopeOf(group));
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
      const saved = await this.groups.save(tx, group);
      await this.audit(tx, who, 'group.updated', saved, { changes });
      return saved;
    });
  }

  async remove(who: Principal, ability: AppAbility, id: string): Promise<void> {
    await this.transactions.run(async (tx) => {
      const group = await this.lockForChange(tx, ability, id, 'delete');
      const members = await this.groups.membershipsOf(tx, id);
      await this.groups.delete(tx, id);
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
    const groups = await this.groups.lockScopeGroups(tx, scopeType, scopeId);
    for (const group of groups) {
      const members = await this.groups.membershipsOf(tx, group.id);
      await this.groups.delete(tx, group.id);
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
      roleFor(g.role, scope.type);
      const group = await this.groups.insert(tx, {
        organizationId: scope.organizationId,
        scopeType: scope.type,
        scopeId: scope.id,
        name: g.name,
        role: g.role,
        description: g.description ?? '',
      });
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
    const { added, removed } = await this.groups.setMembershipAmong(tx, principal, groupIds, target);
    const changed = [...removed, ...(added ? [added] : [])];
    if (changed.length > 0) {
      const groups = new Map((await this.groups.findByIds(tx, changed)).map((g) => [g.id, g]));
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

  /**
   * Removes every membership of a principal (its account is being deleted). Not audited per group:
   * the caller audits the deletion of the account.
   */
  removePrincipal(principalType: PrincipalType, principalId: string, tx?: EntityManager): Promise<number> {
    return this.groups.deletePrincipal({ principalType, principalId }, tx);
  }

  /** Of these principals, those holding a membership of a group outside `organizationId` (expired ones too). */
  membersOutside(
    principalType: PrincipalType,
    principalIds: string[],
    organizationId: string,
    tx?: EntityManager,
  ): Promise<Set<string>> {
    return this.groups.membersOutside(principalType, principalIds, organizationId, tx);
  }

  /**
   * The principals of a type holding `role` at a scope through an unexpired membership (e.g. the
   * users who are organization_admin of an organization). No access check: for notices the system
   * sends on its own.
   */
  holdersOf(
    role: string,
    scope: { type: Scope['type']; id: string },
    principalType: PrincipalType,
    tx?: EntityManager,
  ): Promise<string[]> {
    return this.groups.holdersOf(role, scope.type, scope.id, principalType, tx);
  }

  /**
   * SQL for a statement of another module that lists a scope's members with rows of its own (a
   * project's roster with the users' names): a subquery of the live memberships of the groups at the
   * scope, one row per membership — `principal_type`, `principal_id`, `role`, `group_id`,
   * `group_name`, `expires_at`. `scopeId` is an SQL expression (a parameter); the `groups` and
   * `group_memberships` tables are named only in this module. No access check: the caller checks
   * the scope first.
   */
  scopeMembershipsSql(scopeType: ScopeType, scopeId: string): string {
    return this.groups.scopeMembershipsSql(scopeType, scopeId);
  }

  private async lockForChange(tx: EntityManager, ability: AppAbility, id: string, action: Action): Promise<Group> {
    return lockForChange(this.groups, tx, ability, id, action);
  }

  private audit(
    tx: EntityManager,
    actor: AuditActor,
    action: PermissionsAuditAction,
    group: Group,
    data: Record<string, unknown>,
  ): Promise<void> {
    return emitGroupAudit(this.events, tx, actor, action, group, data);
  }
}
