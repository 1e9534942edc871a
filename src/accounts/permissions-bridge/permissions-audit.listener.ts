import { Injectable } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { PERMISSIONS_AUDIT_EVENT, PermissionsAuditEvent } from '../../permissions/permissions.events';
import { AuditService } from '../audit/audit.service';

/** Writes every grant, revoke and expiry change into the audit log, in the transaction of the change. */
@Injectable()
export class PermissionsAuditListener {
  constructor(private readonly audit: AuditService) {}

  // suppressErrors: false — a failed audit write must roll the change back, not vanish.
  @OnEvent(PERMISSIONS_AUDIT_EVENT, { suppressErrors: false })
  record(e: PermissionsAuditEvent): Promise<void> {
    return this.audit.record(
      {
        action: e.action,
        actor: e.actor,
        subjectType: e.subjectType,
        subjectId: e.subjectId,
        organizationId: e.organizationId,
        data: e.data,
      },
      e.manager,
    );
  }
}
