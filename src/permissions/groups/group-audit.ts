import type { EventEmitter2 } from '@nestjs/event-emitter';
import type { EntityManager } from 'typeorm';
import {
  AuditActor,
  PERMISSIONS_AUDIT_EVENT,
  PermissionsAuditAction,
  PermissionsAuditEvent,
} from '../permissions.events';
import type { Group } from './group.entity';

/** Emits `permissions.audit` for a change of `group`, inside `tx` (accounts writes the audit row in it). */
export async function emitGroupAudit(
  events: EventEmitter2,
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
  await events.emitAsync(PERMISSIONS_AUDIT_EVENT, event);
}
