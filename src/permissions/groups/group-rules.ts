import type { EntityManager } from 'typeorm';
import { CommonError } from '../../common/errors/common.errors';
import { requireAccess } from '../access';
import { AppAbility, missingForRole, Scope } from '../ability';
import { PermissionsError } from '../permissions.errors';
import { findRole, Role, ROLES } from '../roles';
import type { Action } from '../subjects';
import type { Group } from './group.entity';
import type { GroupsRepository } from './groups.repository';

/**
 * The rules a group change follows besides CASL: a role fits the group's scope type, and nobody
 * hands out, joins or edits more than they hold (no escalation).
 */

export const scopeOf = (g: Group): Scope => ({ type: g.scopeType, id: g.scopeId, organizationId: g.organizationId });

/** The fields abilities condition a Group on. */
export const groupFields = (g: Group) => ({
  id: g.id,
  organizationId: g.organizationId,
  scopeType: g.scopeType,
  scopeId: g.scopeId,
});

/** The role named, if it fits a group of `scopeType`: 422 `unknown_role` or `role_scope_mismatch` otherwise. */
export function roleFor(name: string, scopeType: Scope['type']): Role {
  const role = findRole(name);
  const fitting = ROLES.filter((r) => r.scopeType === scopeType).map((r) => r.name);
  if (!role) throw new PermissionsError('unknown_role', `No role "${name}".`, { roles: fitting });
  if (role.scopeType !== scopeType) {
    throw new PermissionsError(
      'role_scope_mismatch',
      `${role.name} is a ${role.scopeType} role; a ${scopeType} group needs one of its own scope.`,
      { role: role.name, role_scope_type: role.scopeType, scope_type: scopeType, roles: fitting },
    );
  }
  return role;
}

/** `role_escalation` unless the ability holds every permission of `role` at `scope`. */
export function assertHoldsRole(ability: AppAbility, role: Role, scope: Scope): void {
  const missing = missingForRole(ability, role, scope);
  if (missing.length > 0) {
    throw new PermissionsError(
      'role_escalation',
      `You do not hold every permission of ${role.name} here, so you cannot hand it out or manage its groups.`,
      { role: role.name, missing },
    );
  }
}

/**
 * The group, locked FOR UPDATE in `tx` (so concurrent role changes and grants serialize), once the
 * caller may do `action` on it and holds its role: 404, 403 or `role_escalation` otherwise.
 */
export async function lockForChange(
  groups: GroupsRepository,
  tx: EntityManager,
  ability: AppAbility,
  id: string,
  action: Action,
): Promise<Group> {
  const group = await groups.lockForUpdate(tx, id);
  if (!group) throw new CommonError('not_found', 'Group not found.');
  requireAccess(ability, action, 'Group', groupFields(group));
  const role = findRole(group.role);
  if (role) assertHoldsRole(ability, role, scopeOf(group));
  return group;
}
