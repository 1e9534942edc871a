import { Injectable, Module } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { PERMISSIONS_AUDIT_EVENT, PermissionsAuditEvent } from '../../src/permissions/permissions.events';

/**
 * How the audit log is meant to subscribe: await the write on the event's transaction, and let
 * errors through (`suppressErrors: false`) so that a failed audit write rolls the change back.
 */
@Injectable()
export class AuditRowWriter {
  failNext = false;

  @OnEvent(PERMISSIONS_AUDIT_EVENT, { suppressErrors: false })
  async write(event: PermissionsAuditEvent): Promise<void> {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('audit store down');
    }
    await event.manager.query(
      `INSERT INTO audit_events (actor_type, actor_id, action, subject_type, subject_id, organization_id, data)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [event.actor.type, event.actor.id, `permissions.${event.action}`, event.subjectType, event.subjectId, event.organizationId, event.data],
    );
  }
}

@Module({ providers: [AuditRowWriter] })
export class AuditListenerModule {}
