import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import type { Principal } from '../../common/auth/principal';
import { AuditEvent } from './audit-event.entity';

export interface AuditEntry {
  action: string;
  actor?: Principal | { type: 'anonymous' | 'system'; id?: null };
  subjectType?: string;
  subjectId?: string;
  organizationId?: string | null;
  data?: Record<string, unknown>;
  ip?: string;
}

/** Writes audit events; pass the transaction so the event commits (or not) with the change it records. */
@Injectable()
export class AuditService {
  constructor(@InjectRepository(AuditEvent) private readonly events: Repository<AuditEvent>) {}

  async record(entry: AuditEntry, tx?: EntityManager): Promise<void> {
    const repo = tx ? tx.getRepository(AuditEvent) : this.events;
    // One INSERT, no RETURNING round trip or implicit transaction: this runs on every token issued.
    await repo.insert({
      action: entry.action,
      actorType: entry.actor?.type ?? 'system',
      actorId: entry.actor && 'id' in entry.actor && entry.actor.id ? entry.actor.id : null,
      subjectType: entry.subjectType ?? null,
      subjectId: entry.subjectId ?? null,
      organizationId: entry.organizationId ?? null,
      data: entry.data ?? {},
      ip: entry.ip ?? null,
    } as QueryDeepPartialEntity<AuditEvent>);
  }
}
