import { AppAbility, asSubject } from './ability';
import { PermissionsError } from './permissions.errors';
import { Action, SUBJECT_ACTIONS, SubjectType } from './subjects';

const label = (type: SubjectType) =>
  type.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/ (\w)/g, (_, c: string) => ` ${c.toLowerCase()}`);

/**
 * Object-level check in a service, after loading the object:
 *   assertCan(ability, 'update', 'Project', project);
 * 404 `not_found` when the caller may not even read it (its existence is not revealed),
 * 403 `forbidden` when it may read it but not do `action`.
 */
export function assertCan(ability: AppAbility, action: string, subjectType: SubjectType, object: object): void {
  const subject = asSubject(subjectType, object);
  if (!ability.can('read', subject)) {
    throw new PermissionsError('not_found', `${label(subjectType)} not found.`);
  }
  if (!ability.can(action, subject)) {
    throw new PermissionsError(
      'forbidden',
      `You may not ${action.replace(/_/g, ' ')} this ${label(subjectType).toLowerCase()}.`,
      {
        action,
      },
    );
  }
}

/** The actions (of those meaningful for the subject type, see SUBJECT_ACTIONS) the ability allows on one object. */
export function allowedActions(ability: AppAbility, subjectType: SubjectType, object: object): Action[] {
  const subject = asSubject(subjectType, object);
  return SUBJECT_ACTIONS[subjectType].filter((action) => ability.can(action, subject));
}
