import type { EntityManager, EntityTarget, FindOptionsWhere, ObjectLiteral } from 'typeorm';
import type { AppAbility } from '../permissions/ability';
import { asSubject } from '../permissions/ability';
import { assertCan } from '../permissions/assert-can';
import type { SubjectType } from '../permissions/subjects';
import { AccountsError } from './accounts.errors';

/**
 * Loads-then-checks for accounts objects: 404 when the row is missing or the caller may not read it,
 * 403 when it may read it but not do `action`.
 */
export function checked<T extends object>(
  ability: AppAbility,
  action: string,
  type: SubjectType,
  row: T | null | undefined,
  label: string,
): T {
  if (!row) throw new AccountsError('not_found', `${label} not found.`);
  assertCan(ability, action, type, row);
  return row;
}

/**
 * `checked` on the row read again inside `tx`, locked until it ends: a change applies to the row as it
 * is now, so one deleted or changed by a request that committed meanwhile is not written back from
 * what was read before (a deleted row is 404, not updated, re-inserted or audited).
 */
export async function checkedForChange<T extends ObjectLiteral>(
  tx: EntityManager,
  entity: EntityTarget<T>,
  where: FindOptionsWhere<T>,
  ability: AppAbility,
  action: string,
  type: SubjectType,
  label: string,
): Promise<T> {
  return checked(
    ability,
    action,
    type,
    await tx.findOne(entity, { where, lock: { mode: 'pessimistic_write' } }),
    label,
  );
}

/**
 * Creating a `type` inside an organization: 404 when the organization does not exist or is invisible
 * to the caller, 403 when it is visible but the caller may not create there.
 */
export function assertCanCreateIn(
  ability: AppAbility,
  type: SubjectType,
  organizationId: string,
  organizationExists: boolean,
): void {
  const target = asSubject(type, { organizationId });
  const seesOrganization =
    ability.can('read', asSubject('Organization', { id: organizationId })) ||
    ability.can('create', target) ||
    ability.can('read', target);
  if (!organizationExists || !seesOrganization) throw new AccountsError('not_found', 'Organization not found.');
  if (!ability.can('create', target))
    throw new AccountsError('forbidden', `You may not create ${type} objects in this organization.`);
}
