import { Injectable } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { PERMISSIONS_AUDIT_EVENT, PermissionsAuditEvent } from '../permissions/permissions.events';
import { EventOutbox } from './event-outbox';

/**
 * `membership.added` / `membership.removed` for every member added to or removed from a group,
 * written in the transaction of the change (the permissions module emits its audit events inside it).
 */
@Injectable()
export class MembershipEventsListener {
  constructor(private readonly outbox: EventOutbox) {}

  // suppressErrors: false — a failed write rolls the change back rather than losing its event.
  @OnEvent(PERMISSIONS_AUDIT_EVENT, { suppressErrors: false })
  async record(e: PermissionsAuditEvent): Promise<void> {
    const type =
      e.action === 'group.member_added'
        ? 'membership.added'
        : e.action === 'group.member_removed'
          ? 'membership.removed'
          : null;
    if (!type) return;
    const d = e.data;
    await this.outbox.append(e.manager, [
      {
        type,
        organizationId: e.organizationId,
        subjectType: 'Group',
        subjectId: e.subjectId,
        payload: {
          group: e.subjectId,
          role: d.role ?? null,
          scope_type: d.scope_type ?? null,
          scope_id: d.scope_id ?? null,
          principal_type: d.principal_type ?? null,
          principal_id: d.principal_id ?? null,
          ...(type === 'membership.added' ? { expires_at: d.expires_at ?? null } : {}),
        },
      },
    ]);
  }
}
