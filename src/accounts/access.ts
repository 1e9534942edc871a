import type { EntityManager, EntityTarget, FindOptionsWhere, ObjectLiteral } from 'typeorm';
import type { AppAbility } from '../permissions/ability';
import { requireAccess } from '../permissions/access';
import type { Action, SubjectType } from '../permissions/subjects';

/**
 * `requireAccess` on the row read again inside `tx`, locked until it ends: a change applies to the
 * row as it is now, so one deleted or changed by a request that committed meanwhile is not written
 * back from what was read before (a deleted row is 404, not updated, re-inserted or audited).
 */
export async function checkedForChange<T extends ObjectLiteral>(
  tx: EntityManager,
  entity: EntityTarget<T>,
  where: FindOptionsWhere<T>,
  ability: AppAbility,
  action: Action,
  type: SubjectType,
): Promise<T> {
  return requireAccess(ability, action, type, await tx.findOne(entity, { where, lock: { mode: 'pessimistic_write' } }));
}
