import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { Listed, pageWindow, PageQuery } from '../common/pagination/pagination';
import { queryRows } from '../database/query';
import type { AppAbility } from '../permissions/ability';
import { scopeToAbility } from '../permissions/ability-to-sql';
import { WebhookAttempt } from './webhook-attempt.entity';
import { DeliveryState, WebhookDelivery } from './webhook-delivery.entity';
import { WebhookSubscription } from './webhook-subscription.entity';

/** A claim older than this is taken over by another job for the same delivery (its job is gone). */
const STALE_CLAIM = `interval '2 hours'`;

export interface NewDelivery {
  subscriptionId: string;
  eventId: string;
  eventType: string;
  subjectId: string;
  seq: string;
  body: string;
}

/** Every statement on the webhooks module's tables. */
@Injectable()
export class WebhooksRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  list(ability: AppAbility, q: PageQuery & { organization?: string }): Promise<Listed<WebhookSubscription>> {
    const { offset, pageSize } = pageWindow(q);
    const qb = this.db
      .getRepository(WebhookSubscription)
      .createQueryBuilder('w')
      .orderBy('w.created_at', 'ASC')
      .addOrderBy('w.id', 'ASC')
      .skip(offset)
      .take(pageSize);
    scopeToAbility(qb, ability, 'read', 'Webhook', 'w');
    if (q.organization) qb.andWhere('w.organization_id = :org', { org: q.organization });
    return qb.getManyAndCount();
  }

  findById(id: string, tx?: EntityManager): Promise<WebhookSubscription | null> {
    return (tx ?? this.db.manager).findOneBy(WebhookSubscription, { id });
  }

  lockById(id: string, tx: EntityManager): Promise<WebhookSubscription | null> {
    return tx.findOne(WebhookSubscription, { where: { id }, lock: { mode: 'pessimistic_write' } });
  }

  save(subscription: WebhookSubscription, tx: EntityManager): Promise<WebhookSubscription> {
    return tx.save(WebhookSubscription, subscription);
  }

  async remove(id: string, tx: EntityManager): Promise<void> {
    await tx.delete(WebhookSubscription, { id });
  }

  /** Active subscriptions of these organizations, read in the relay's transaction. */
  activeOf(organizationIds: string[], tx: EntityManager): Promise<WebhookSubscription[]> {
    return tx
      .getRepository(WebhookSubscription)
      .createQueryBuilder('w')
      .where('w.organization_id = ANY(:ids)', { ids: organizationIds })
      .andWhere('w.active')
      .getMany();
  }

  /**
   * Serializes, until `tx` ends, the writers of one lane (subscription, subject): new deliveries,
   * and the end of a delivery that hands the lane to its next one.
   */
  async lockLanes(tx: EntityManager, lanes: { subscriptionId: string; subjectId: string }[]): Promise<void> {
    const keys = [...new Set(lanes.map((l) => `${l.subscriptionId}:${l.subjectId}`))].sort();
    for (const key of keys) await queryRows(tx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [key]);
  }

  /** Inserts deliveries (an event already delivered to a subscription is skipped); returns the new ones. */
  async insertDeliveries(tx: EntityManager, rows: NewDelivery[]): Promise<WebhookDelivery[]> {
    if (rows.length === 0) return [];
    const inserted = await queryRows<Record<string, unknown>>(
      tx,
      `INSERT INTO webhook_deliveries (subscription_id, event_id, event_type, subject_id, seq, body)
       SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::uuid[], $5::bigint[], $6::text[])
       ON CONFLICT (subscription_id, event_id) DO NOTHING
       RETURNING id, subscription_id, subject_id, seq, created_at`,
      [
        rows.map((r) => r.subscriptionId),
        rows.map((r) => r.eventId),
        rows.map((r) => r.eventType),
        rows.map((r) => r.subjectId),
        rows.map((r) => r.seq),
        rows.map((r) => r.body),
      ],
    );
    return inserted.map((r) =>
      Object.assign(new WebhookDelivery(), {
        id: r.id,
        subscriptionId: r.subscription_id,
        subjectId: r.subject_id,
        seq: String(r.seq),
        createdAt: r.created_at,
      }),
    );
  }

  /** The pending delivery each lane of a subscription sends next (of `subjectIds` when given). */
  async laneHeads(tx: EntityManager, subscriptionId: string, subjectIds?: string[]): Promise<string[]> {
    const rows = await queryRows<{ id: string }>(
      tx,
      `SELECT DISTINCT ON (subject_id) id FROM webhook_deliveries
        WHERE subscription_id = $1 AND state = 'pending' AND ($2::uuid[] IS NULL OR subject_id = ANY($2::uuid[]))
        ORDER BY subject_id, seq, created_at, id`,
      [subscriptionId, subjectIds ?? null],
    );
    return rows.map((r) => r.id);
  }

  findDelivery(id: string, tx?: EntityManager): Promise<WebhookDelivery | null> {
    return (tx ?? this.db.manager).findOneBy(WebhookDelivery, { id });
  }

  /**
   * Takes a pending delivery for the job `jobId` when it is the head of its lane (every earlier one
   * delivered or failed) and no other live job holds it. Null otherwise.
   */
  async claim(id: string, jobId: string): Promise<WebhookDelivery | null> {
    const [row] = await queryRows<Record<string, unknown>>(
      this.db,
      `UPDATE webhook_deliveries d SET claimed_by = $2, claimed_at = now(), updated_at = now()
        WHERE d.id = $1 AND d.state = 'pending'
          AND (d.claimed_by IS NULL OR d.claimed_by = $2 OR d.claimed_at < now() - ${STALE_CLAIM})
          AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e
                           WHERE e.subscription_id = d.subscription_id AND e.subject_id = d.subject_id
                             AND e.state = 'pending' AND (e.seq, e.created_at, e.id) < (d.seq, d.created_at, d.id))
        RETURNING d.id, d.attempts, d.first_attempt_at`,
      [id, jobId],
    );
    if (!row) return null;
    return Object.assign(new WebhookDelivery(), {
      id: row.id,
      attempts: row.attempts,
      firstAttemptAt: row.first_attempt_at,
    });
  }

  /** Records an attempt of the delivery held by `jobId`; returns its attempt count and first attempt time. */
  async recordAttempt(
    id: string,
    jobId: string,
    attempt: Pick<WebhookAttempt, 'status' | 'error' | 'responseExcerpt' | 'durationMs'>,
  ): Promise<{ attempts: number; firstAttemptAt: Date } | null> {
    return this.db.transaction(async (tx) => {
      const [row] = await queryRows<{ attempts: number; first_attempt_at: Date }>(
        tx,
        `UPDATE webhook_deliveries SET attempts = attempts + 1, first_attempt_at = COALESCE(first_attempt_at, now()),
                last_attempt_at = now(), updated_at = now()
          WHERE id = $1 AND state = 'pending' AND claimed_by = $2
          RETURNING attempts, first_attempt_at`,
        [id, jobId],
      );
      if (!row) return null;
      await queryRows(
        tx,
        `INSERT INTO webhook_attempts (delivery_id, status, error, response_excerpt, duration_ms) VALUES ($1, $2, $3, $4, $5)`,
        [id, attempt.status, attempt.error, attempt.responseExcerpt, attempt.durationMs],
      );
      return { attempts: row.attempts, firstAttemptAt: row.first_attempt_at };
    });
  }

  /** Ends a pending delivery (delivered or failed); false when it was not pending. */
  async finish(tx: EntityManager, id: string, state: Exclude<DeliveryState, 'pending'>, error: string | null) {
    const rows = await queryRows(
      tx,
      `UPDATE webhook_deliveries SET state = $2::varchar, error = $3, claimed_by = NULL, claimed_at = NULL, updated_at = now(),
              delivered_at = CASE WHEN $2::varchar = 'delivered' THEN now() ELSE delivered_at END
        WHERE id = $1 AND state = 'pending' RETURNING id`,
      [id, state, error],
    );
    return rows.length > 0;
  }

  /**
   * Deletes up to `limit` deliveries finished (delivered or failed) before `cutoff`, their attempts
   * with them (ON DELETE CASCADE); returns how many. Rows being redelivered at the same moment are
   * skipped (locked) and the state is checked again under the lock.
   */
  async purgeFinished(cutoff: Date, limit: number): Promise<number> {
    const rows = await queryRows(
      this.db,
      `DELETE FROM webhook_deliveries WHERE id IN (
         SELECT id FROM webhook_deliveries
          WHERE state IN ('delivered', 'failed') AND updated_at < $1
          LIMIT $2 FOR UPDATE SKIP LOCKED)
       RETURNING id`,
      [cutoff, limit],
    );
    return rows.length;
  }

  /** A delivered or failed delivery pending again (redelivery), its retry window starting afresh. */
  async reopen(tx: EntityManager, id: string): Promise<boolean> {
    const rows = await queryRows(
      tx,
      `UPDATE webhook_deliveries SET state = 'pending', error = NULL, first_attempt_at = NULL, claimed_by = NULL,
              claimed_at = NULL, updated_at = now()
        WHERE id = $1 AND state <> 'pending' RETURNING id`,
      [id],
    );
    return rows.length > 0;
  }

  /** A subscription's deliveries, newest first, with their attempts (oldest first). */
  async deliveries(
    subscriptionId: string,
    q: PageQuery & { state?: DeliveryState },
  ): Promise<Listed<WebhookDelivery & { attemptLog: WebhookAttempt[] }>> {
    const { offset, pageSize } = pageWindow(q);
    const qb = this.db
      .getRepository(WebhookDelivery)
      .createQueryBuilder('d')
      .where('d.subscription_id = :id', { id: subscriptionId })
      .orderBy('d.created_at', 'DESC')
      .addOrderBy('d.id', 'DESC')
      .skip(offset)
      .take(pageSize);
    if (q.state) qb.andWhere('d.state = :state', { state: q.state });
    const [rows, count] = await qb.getManyAndCount();
    const attempts =
      rows.length === 0
        ? []
        : await this.db
            .getRepository(WebhookAttempt)
            .createQueryBuilder('a')
            .where('a.delivery_id = ANY(:ids)', { ids: rows.map((r) => r.id) })
            .orderBy('a.created_at', 'ASC')
            .getMany();
    return [rows.map((r) => Object.assign(r, { attemptLog: attempts.filter((a) => a.deliveryId === r.id) })), count];
  }
}
