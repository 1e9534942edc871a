import type { EntityManager } from 'typeorm';
import type { Principal } from '../common/auth/principal';

/** Emitted (with `emitAsync`, inside the transaction of the change) for every grant, revoke and expiry change. */
export const PERMISSIONS_AUDIT_EVENT = 'permissions.audit';

export type PermissionsAuditAction =
  | 'group.created'
  | 'group.updated'
  | 'group.deleted'
  | 'group.member_added'
  | 'group.member_removed'
  | 'group.member_expiry_changed';

/** Who made a change: a caller, or the system itself (changes made on behalf of an outside source). */
export type AuditActor = Principal | { type: 'system' };

export interface PermissionsAuditEvent {
  action: PermissionsAuditAction;
  actor: AuditActor;
  subjectType: 'Group';
  subjectId: string;
  organizationId: string;
  data: Record<string, unknown>;
  /**
   * The transaction of the change. A listener that writes the audit row with it (and returns the
   * promise) commits with the change or not at all; a listener that throws rolls the change back.
   */
  manager: EntityManager;
}
