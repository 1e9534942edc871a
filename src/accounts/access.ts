import type { Principal } from '../common/auth/principal';
import { AccountsError } from './accounts.errors';

/**
 * Interim organization-level access for the accounts module: staff manage everything, support read
 * everything, a service account reads its own organization. Replaced by the permissions module's abilities.
 */
export function visibleOrganizationIds(who: Principal): string[] | 'all' {
  if (who.isStaff || who.isSupport) return 'all';
  if (who.type === 'service_account' && who.organizationId) return [who.organizationId];
  return [];
}

export function canRead(who: Principal, organizationId: string | null): boolean {
  const visible = visibleOrganizationIds(who);
  return visible === 'all' || (organizationId !== null && visible.includes(organizationId));
}

/** 404 when the caller cannot see the object, 403 when it can see but not change it. */
export function assertCanWrite(who: Principal, organizationId: string | null, what: string): void {
  if (!canRead(who, organizationId)) throw new AccountsError('not_found', `${what} not found.`);
  if (!who.isStaff) throw new AccountsError('forbidden', `You may not change this ${what.toLowerCase()}.`);
}

export function assertCanRead(who: Principal, organizationId: string | null, what: string): void {
  if (!canRead(who, organizationId)) throw new AccountsError('not_found', `${what} not found.`);
}
