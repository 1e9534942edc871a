import { Injectable, Module } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { PERMISSIONS_AUDIT_EVENT, PermissionsAuditEvent } from '../../src/permissions/permissions.events';

/**
 * Fault injection beside the real audit listener (accounts' PermissionsAuditListener): when told,
 * fails the next permissions audit event, which must roll the change back.
 */
@Injectable()
export class AuditRowWriter {
  failNext = false;

  @OnEvent(PERMISSIONS_AUDIT_EVENT, { suppressErrors: false })
  async write(_event: PermissionsAuditEvent): Promise<void> {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('audit store down');
    }
  }
}

@Module({ providers: [AuditRowWriter] })
export class AuditListenerModule {}
