import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import type { Principal } from '../../common/auth/principal';
import { AuditEvent } from './audit-event.entity';
import { queryRows } from '../../database/query';
import { Listed, pageOf } from '../../common/pagination/pagination';
import type { AppAbility } from '../../permissions/ability';
import { scopeList } from '../../permissions/user-has-perm';
import type { AuditQuery } from './audit-event.dto';

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

/** Writes audit events (pass the transaction so the event commits, or not, with the change it records) and lists them. */
@Injectable()
export class AuditService {
  constructor(@InjectRepository(AuditEvent) private readonly events: Repository<AuditEvent>) {}

  /** The events the ability may read, newest first, filtered as the query asks; scoped in SQL. */
  async list(ability: AppAbility, q: AuditQuery): Promise<Listed<AuditEvent>> {
    const qb = this.events.createQueryBuilder('e').orderBy('e.occurred_at', 'DESC').addOrderBy('e.id', 'DESC');
    scopeList(qb, ability, q.user_has_perm, 'AuditEvent', 'e');
    if (q.action) qb.andWhere('e.action = :action', { action: q.action });
    if (q.organization) qb.andWhere('e.organization_id = :org', { org: q.organization });
    if (q.actor) qb.andWhere('e.actor_id = :actor', { actor: q.actor });
    if (q.subject_type) qb.andWhere('e.subject_type = :st', { st: q.subject_type });
    if (q.subject_id) qb.andWhere('e.subject_id = :sid', { sid: q.subject_id });
    if (q.since) qb.andWhere('e.occurred_at >= :since', { since: q.since });
    if (q.until) qb.andWhere('e.occurred_at < :until', { until: q.until });
    return pageOf(qb, q);
  }

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
