import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import type { Principal } from '../../common/auth/principal';
import { AuditEvent } from './audit-event.entity';
import { queryRows } from '../../database/query';

export interface AuditEntry {
  action: string;
  actor?: Principal | { type: 'anonymous' | 'system'; id?: null };
  subjectType?: string;
  subjectId?: string;
  organizationId?: string | null;
  data?: Record<string, unknown>;
  ip?: string;
}

/** Events per INSERT: eight parameters each, under PostgreSQL's 65,535 bind parameters. */
const EVENTS_PER_INSERT = 5000;

/** audit_events.ip is varchar(64). Behind TRUST_PROXY the address is what X-Forwarded-For says, any length. */
const IP_MAX = 64;

/** Writes audit events; pass the transaction so the event commits (or not) with the change it records. */
@Injectable()
export class AuditService {
  constructor(@InjectRepository(AuditEvent) private readonly events: Repository<AuditEvent>) {}

  async record(entry: AuditEntry, tx?: EntityManager): Promise<void> {
    await this.recordMany([entry], tx);
  }

  /** Several events in plain multi-row INSERTs (a single event runs on every login). */
  async recordMany(entries: AuditEntry[], tx?: EntityManager): Promise<void> {
    for (let i = 0; i < entries.length; i += EVENTS_PER_INSERT)
      await this.insert(entries.slice(i, i + EVENTS_PER_INSERT), tx);
  }

  private async insert(entries: AuditEntry[], tx?: EntityManager): Promise<void> {
    if (!entries.length) return;
    const params: unknown[] = [];
    const rows = entries.map((entry) => {
      const at = params.length;
      params.push(
        entry.action,
        entry.actor?.type ?? 'system',
        entry.actor && 'id' in entry.actor && entry.actor.id ? entry.actor.id : null,
        entry.subjectType ?? null,
        entry.subjectId ?? null,
        entry.organizationId ?? null,
        JSON.stringify(entry.data ?? {}),
        entry.ip?.slice(0, IP_MAX) ?? null,
      );
      return `(${Array.from({ length: 8 }, (_, i) => `$${at + i + 1}`).join(', ')})`;
    });
    await queryRows(
      tx ?? this.events.manager,
      `INSERT INTO audit_events (action, actor_type, actor_id, subject_type, subject_id, organization_id, data, ip) VALUES ${rows.join(', ')}`,
      params,
    );
  }
}
