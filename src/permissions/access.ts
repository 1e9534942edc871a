import { CommonError } from '../common/errors/common.errors';
import { allowsEverywhere, AppAbility, asSubject } from './ability';
import { Action, SUBJECT_ACTIONS, SubjectType } from './subjects';

const label = (type: SubjectType) =>
  type.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/ (\w)/g, (_, c: string) => ` ${c.toLowerCase()}`);

/**
 * The one object-level check, called first in a service method with the row it acts on:
 *   const project = requireAccess(ability, 'update', 'Project', await this.projects.find(id));
 * 404 `not_found` when the row is missing or the caller may not even read it (its existence is
 * not revealed), 403 `forbidden` when it may read it but not do `action`. Returns the row.
 * `notFound` shapes the 404: `message` when the route names another object than the one checked
 * (the users of an organization: "Organization not found."), `details` such as the id asked for.
 */
export function requireAccess<T extends object>(
  ability: AppAbility,
  action: Action,
  type: SubjectType,
  row: T | null | undefined,
  notFound: { message?: string; details?: Record<string, unknown> } = {},
): T {
  const missing = () => new CommonError('not_found', notFound.message ?? `${label(type)} not found.`, notFound.details);
  if (!row) throw missing();
  const subject = asSubject(type, row);
  if (!ability.can('read', subject)) throw missing();
  if (!ability.can(action, subject)) {
    throw new CommonError('forbidden', `You may not ${action.replace(/_/g, ' ')} this ${label(type).toLowerCase()}.`, {
      action,
    });
  }
  return row;
}

/**
 * Creating a `type` inside an organization: 404 when the organization does not exist or is
 * invisible to the caller, 403 when it is visible but the caller may not create there.
 */
export function requireCreateIn(
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
  if (!organizationExists || !seesOrganization) throw new CommonError('not_found', 'Organization not found.');
  if (!ability.can('create', target)) {
    throw new CommonError('forbidden', `You may not create ${type} objects in this organization.`);
  }
}

/**
 * Work on every `type` object at once (closing every expired course account): 403 `forbidden`
 * unless the ability allows `action` on all of them, not only on those of some organization.
 */
export function requireEverywhere(ability: AppAbility, action: Action, type: SubjectType, what: string): void {
  if (!allowsEverywhere(ability, action, type)) {
    throw new CommonError('forbidden', `Only staff may ${what}.`, { action });
  }
}

/** The actions (of those meaningful for the subject type, see SUBJECT_ACTIONS) the ability allows on one object. */
export function allowedActions(ability: AppAbility, subjectType: SubjectType, object: object): Action[] {
  const subject = asSubject(subjectType, object);
  return SUBJECT_ACTIONS[subjectType].filter((action) => ability.can(action, subject));
}
