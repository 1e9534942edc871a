import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../accounts/audit/audit.service';
import { InjectSettings } from '../config/settings.module';
import { Settings } from '../config/settings.schema';
import type { StoredEvent } from '../events/event-types';
import { OutboxRelay } from '../events/outbox-relay';
import { JobsService } from '../jobs/jobs.service';
import { NoticeMailService } from '../mail/notice-mail.service';
import { RetryLaterError } from '../jobs/processors/job-processor';
import { matchesEventType } from './event-patterns';
import { safePost } from './safe-http';
import { WebhookSecrets } from './webhook-secrets';
import { signedHeaders } from './webhook-signing';
import { WebhookSubscription } from './webhook-subscription.entity';
import { DELIVER_WEBHOOK_JOB, DELIVERY_MAX_ATTEMPTS, WEBHOOK_JOB_OWNER } from './webhook.jobs';
import { NewDelivery, WebhooksRepository } from './webhooks.repository';

const MAX_BACKOFF_MS = 3_600_000;

/** The message sent for an event (Standard Webhooks: `type`, `timestamp`, `data`). */
export function messageBody(
  e: Pick<StoredEvent, 'id' | 'type' | 'occurredAt' | 'organizationId' | 'subjectType' | 'subjectId' | 'payload'>,
): string {
  return JSON.stringify({
    id: e.id,
    type: e.type,
    timestamp: new Date(e.occurredAt).toISOString(),
    organization: e.organizationId,
    subject: { type: e.subjectType, id: e.subjectId },
    data: e.payload,
  });
}

/** What one run of a delivery job did. */
export type DeliveryOutcome = 'delivered' | 'failed' | 'skipped';

/**
 * Webhook delivery: turns relayed events into deliveries of matching subscriptions (in the relay's
 * transaction), sends one delivery per job run, and hands a lane to its next delivery when one ends.
 */
@Injectable()
export class WebhookDeliverer implements OnModuleInit {
  private readonly logger = new Logger('Webhooks');

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly repo: WebhooksRepository,
    private readonly jobs: JobsService,
    private readonly relay: OutboxRelay,
    private readonly secrets: WebhookSecrets,
    private readonly audit: AuditService,
    private readonly notices: NoticeMailService,
    @InjectSettings() private readonly settings: Settings,
  ) {}

  onModuleInit(): void {
    this.relay.register('webhooks', (events, tx) => this.fanOut(events, tx));
  }

  /** Deliveries for every active subscription of each event's organization whose types match; jobs for lane heads. */
  async fanOut(events: readonly StoredEvent[], tx: EntityManager): Promise<void> {
    const orgs = [...new Set(events.map((e) => e.organizationId).filter((o): o is string => Boolean(o)))];
    if (orgs.length === 0) return;
    const subscriptions = await this.repo.activeOf(orgs, tx);
    if (subscriptions.length === 0) return;
    const rows: NewDelivery[] = [];
    const orgOf = new Map<string, string>();
    for (const e of events) {
      for (const s of subscriptions) {
        if (s.organizationId !== e.organizationId || !matchesEventType(s.eventTypes, e.type)) continue;
        orgOf.set(s.id, s.organizationId);
        rows.push({
          subscriptionId: s.id,
          eventId: e.id,
          eventType: e.type,
          subjectId: e.subjectId,
          seq: e.seq,
          body: messageBody(e),
        });
      }
    }
    if (rows.length === 0) return;
    await this.repo.lockLanes(tx, rows);
    const inserted = await this.repo.insertDeliveries(tx, rows);
    const bySubscription = new Map<string, Set<string>>();
    for (const d of inserted) {
      const set = bySubscription.get(d.subscriptionId) ?? new Set<string>();
      set.add(d.subjectId);
      bySubscription.set(d.subscriptionId, set);
    }
    const fresh = new Set(inserted.map((d) => d.id));
    for (const [subscriptionId, subjects] of bySubscription) {
      for (const head of await this.repo.laneHeads(tx, subscriptionId, [...subjects])) {
        // A lane already busy with an earlier delivery gets its next one when that one ends.
        if (fresh.has(head)) await this.enqueue(tx, head, orgOf.get(subscriptionId) ?? null);
      }
    }
  }

  /** A delivery job for `deliveryId`, in `tx` (dispatched after the commit). */
  async enqueue(tx: EntityManager, deliveryId: string, organizationId: string | null): Promise<void> {
    await this.jobs.enqueue(
      DELIVER_WEBHOOK_JOB,
      { deliveryId },
      { owner: WEBHOOK_JOB_OWNER, organizationId, maxAttempts: DELIVERY_MAX_ATTEMPTS },
      tx,
    );
  }

  /**
   * One attempt of a delivery, by the job `jobId`. Delivered (2xx) or failed (an answer not worth
   * retrying, or the retry window is over) ends it and starts the next of its lane; a network error,
   * timeout, 5xx or 429 within the window throws RetryLaterError with the backoff.
   */
  async attempt(deliveryId: string, jobId: string): Promise<DeliveryOutcome> {
    const delivery = await this.repo.findDelivery(deliveryId);
    if (!delivery || delivery.state !== 'pending') return 'skipped';
    const subscription = await this.repo.findById(delivery.subscriptionId);
    // Disabled: the delivery waits; turning the subscription on again resumes its lanes.
    if (!subscription || (!subscription.active && delivery.eventType !== 'ping')) return 'skipped';
    // Not the head of its lane, or another live job holds it: the one ahead hands the lane on.
    if (!(await this.repo.claim(deliveryId, jobId))) return 'skipped';

    const headers = signedHeaders(this.secrets.signingSecrets(subscription), delivery.eventId, delivery.body);
    const result = await safePost(subscription.url, headers, delivery.body, {
      timeoutMs: this.settings.WEBHOOK_TIMEOUT_MS,
      allowPrivate: this.settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES,
    });
    const recorded = await this.repo.recordAttempt(deliveryId, jobId, {
      status: result.status ?? null,
      error: result.error ?? null,
      responseExcerpt: result.excerpt,
      durationMs: result.durationMs,
    });
    if (!recorded) return 'skipped';
    const status = result.status;
    if (status !== undefined && status >= 200 && status < 300 && !result.error) {
      await this.end(delivery.id, subscription, 'delivered', null, false);
      return 'delivered';
    }
    const why = result.error ?? `HTTP ${status}`;
    const retryable = result.network || (status !== undefined && (status >= 500 || status === 429));
    const elapsed = Date.now() - new Date(recorded.firstAttemptAt).getTime();
    if (retryable && elapsed < this.settings.WEBHOOK_RETRY_WINDOW_MS) {
      const delay = Math.min(MAX_BACKOFF_MS, this.settings.WEBHOOK_RETRY_BACKOFF_MS * 2 ** (recorded.attempts - 1));
      throw new RetryLaterError(`Webhook delivery attempt ${recorded.attempts} failed: ${why}`, delay);
    }
    const reason = retryable ? `No successful attempt within the retry window: ${why}` : why;
    await this.end(delivery.id, subscription, 'failed', reason, retryable);
    return 'failed';
  }

  /**
   * Ends a delivery and hands its lane to the next pending one; a delivery that failed for a whole
   * retry window also disables its subscription and tells its organization's admins (audit event and
   * e-mail).
   */
  async end(
    deliveryId: string,
    subscription: WebhookSubscription,
    state: 'delivered' | 'failed',
    error: string | null,
    disable: boolean,
  ): Promise<void> {
    await this.db.transaction(async (tx) => {
      const delivery = await this.repo.findDelivery(deliveryId, tx);
      if (!delivery) return;
      await this.repo.lockLanes(tx, [delivery]);
      if (!(await this.repo.finish(tx, deliveryId, state, error))) return;
      let active = subscription.active;
      if (disable && subscription.active) {
        const current = await this.repo.lockById(subscription.id, tx);
        if (current?.active) {
          current.active = false;
          current.disabledReason = error;
          await this.repo.save(current, tx);
          active = false;
          await this.audit.record(
            {
              action: 'webhook.disabled',
              actor: { type: 'system' },
              subjectType: 'Webhook',
              subjectId: subscription.id,
              organizationId: subscription.organizationId,
              data: { url: subscription.url, reason: error, delivery: deliveryId },
            },
            tx,
          );
          // And by e-mail, queued in the same transaction: the subscription's URL and description
          // (escaped in HTML by the template), never its secret.
          await this.notices.notifyOrganizationAdmins(
            'webhook_disabled',
            subscription.organizationId,
            {
              subscription_id: subscription.id,
              url: subscription.url,
              description: subscription.description,
              reason: error ?? '',
            },
            tx,
          );
          this.logger.warn(`Webhook subscription ${subscription.id} disabled: ${error}`);
        }
      }
      if (!active) return;
      const [next] = await this.repo.laneHeads(tx, subscription.id, [delivery.subjectId]);
      if (next) await this.enqueue(tx, next, subscription.organizationId);
    });
  }

  /** A delivery job ended without finishing its delivery (out of attempts, canceled): the delivery fails, its lane goes on. */
  async abandon(deliveryId: string, why: string): Promise<void> {
    const delivery = await this.repo.findDelivery(deliveryId);
    if (!delivery || delivery.state !== 'pending') return;
    const subscription = await this.repo.findById(delivery.subscriptionId);
    if (!subscription) return;
    await this.end(deliveryId, subscription, 'failed', `The delivery job ended: ${why}`, false);
  }
}
