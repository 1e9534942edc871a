import type { AppAbility } from '../permissions/ability';
import { asSubject } from '../permissions/ability';
import { assertCan } from '../permissions/assert-can';
import type { SubjectType } from '../permissions/subjects';
import { AccountsError } from './accounts.errors';

/**
 * Loads-then-checks for accounts objects: 404 when the row is missing or the caller may not read it,
 * 403 when it may read it but not do `action`.
 */
export function checked<T extends object>(ability: AppAbility, action: string, type: SubjectType, row: T | null | undefined, label: string): T {
  if (!row) throw new AccountsError('not_found', `${label} not found.`);
  assertCan(ability, action, type, row);
  return row;
}

/**
 * Creating a `type` inside an organization: 404 when the organization does not exist or is invisible
 * to the caller, 403 when it is visible but the caller may not create there.
 */
export function assertCanCreateIn(ability: AppAbility, type: SubjectType, organizationId: string, organizationExists: boolean): void {
  const target = asSubject(type, { organizationId });
  const seesOrganization = ability.can('read', asSubject('Organization', { id: organizationId })) || ability.can('create', target) || ability.can('read', target);
  if (!organizationExists || !seesOrganization) throw new AccountsError('not_found', 'Organization not found.');
  if (!ability.can('create', target)) throw new AccountsError('forbidden', `You may not create ${type} objects in this organization.`);
}
