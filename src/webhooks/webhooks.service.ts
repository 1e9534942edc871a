import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AuditService } from '../accounts/audit/audit.service';
import { OrganizationsService } from '../accounts/organizations/organizations.service';
import type { Principal } from '../common/auth/principal';
import { CommonError } from '../common/errors/common.errors';
import { Listed } from '../common/pagination/pagination';
import { InjectSettings } from '../config/settings.module';
import { isLoopback } from '../config/setting-values';
import { Settings } from '../config/settings.schema';
import { TransactionRunner } from '../database/transaction';
import type { AppAbility } from '../permissions/ability';
import { requireAccess, requireCreateIn } from '../permissions/access';
import { unknownPatterns } from './event-patterns';
import { CreateWebhookDto, DeliveryQuery, UpdateWebhookDto, WebhookQuery } from './dto/webhook.dto';
import type { WebhookAttempt } from './webhook-attempt.entity';
import { messageBody, WebhookDeliverer } from './webhook-deliverer';
import type { WebhookDelivery } from './webhook-delivery.entity';
import { WebhookSecrets } from './webhook-secrets';
import { newSigningSecret } from './webhook-signing';
import { WebhookSubscription } from './webhook-subscription.entity';
import { WebhookError } from './webhooks.errors';
import { WebhooksRepository } from './webhooks.repository';

/** Webhook subscriptions: organization admins of the subscription's organization, or staff. */
@Injectable()
export class WebhooksService {
  constructor(
    private readonly repo: WebhooksRepository,
    private readonly organizations: OrganizationsService,
    private readonly transactions: TransactionRunner,
    private readonly audit: AuditService,
    private readonly secrets: WebhookSecrets,
    private readonly deliverer: WebhookDeliverer,
    @InjectSettings() private readonly settings: Settings,
  ) {}

  list(ability: AppAbility, q: WebhookQuery): Promise<Listed<WebhookSubscription>> {
    return this.repo.list(ability, q);
  }

  async get(ability: AppAbility, id: string): Promise<WebhookSubscription> {
    return requireAccess(ability, 'read', 'Webhook', await this.repo.findById(id), { details: { id } });
  }

  async create(
    who: Principal,
    ability: AppAbility,
    dto: CreateWebhookDto,
  ): Promise<{ subscription: WebhookSubscription; secret: string }> {
    const [org] = await this.organizations.summaries([dto.organization]);
    requireCreateIn(ability, 'Webhook', dto.organization, Boolean(org));
    this.checkUrl(dto.url);
    this.checkEventTypes(dto.event_types);
    const secret = newSigningSecret();
    const subscription = await this.transactions.run(async (tx) => {
      const saved = await this.repo.save(
        Object.assign(new WebhookSubscription(), {
          organizationId: dto.organization,
          url: dto.url,
          eventTypes: [...new Set(dto.event_types)],
          description: dto.description ?? '',
          active: dto.active ?? true,
          disabledReason: null,
          secretEncrypted: this.secrets.seal(secret),
          previousSecretEncrypted: null,
          previousSecretExpiresAt: null,
        }),
        tx,
      );
      await this.record(tx, who, 'webhook.created', saved, { url: saved.url, event_types: saved.eventTypes });
      return saved;
    });
    return { subscription, secret };
  }

  async update(who: Principal, ability: AppAbility, id: string, dto: UpdateWebhookDto): Promise<WebhookSubscription> {
    if (dto.url !== undefined) this.checkUrl(dto.url);
    if (dto.event_types) this.checkEventTypes(dto.event_types);
    return this.transactions.run(async (tx) => {
      const current = requireAccess(ability, 'update', 'Webhook', await this.repo.lockById(id, tx), {
        details: { id },
      });
      const resumed = dto.active === true && !current.active;
      const next = Object.assign(current, {
        url: dto.url ?? current.url,
        eventTypes: dto.event_types ? [...new Set(dto.event_types)] : current.eventTypes,
        description: dto.description ?? current.description,
        active: dto.active ?? current.active,
        disabledReason: dto.active === true ? null : current.disabledReason,
      });
      const saved = await this.repo.save(next, tx);
      await this.record(tx, who, 'webhook.updated', saved, { fields: Object.keys(dto) });
      if (resumed) {
        for (const head of await this.repo.laneHeads(tx, id))
          await this.deliverer.enqueue(tx, head, saved.organizationId);
      }
      return saved;
    });
  }

  async remove(who: Principal, ability: AppAbility, id: string): Promise<void> {
    await this.transactions.run(async (tx) => {
      const current = requireAccess(ability, 'delete', 'Webhook', await this.repo.lockById(id, tx), {
        details: { id },
      });
      await this.repo.remove(id, tx);
      await this.record(tx, who, 'webhook.deleted', current, { url: current.url });
    });
  }

  /** A new secret; the previous one keeps signing for WEBHOOK_SECRET_OVERLAP_SECONDS. */
  async rotateSecret(
    who: Principal,
    ability: AppAbility,
    id: string,
  ): Promise<{ subscription: WebhookSubscription; secret: string }> {
    const secret = newSigningSecret();
    const subscription = await this.transactions.run(async (tx) => {
      const current = requireAccess(ability, 'rotate_secret', 'Webhook', await this.repo.lockById(id, tx), {
        details: { id },
      });
      const overlapMs = this.settings.WEBHOOK_SECRET_OVERLAP_SECONDS * 1000;
      Object.assign(current, {
        previousSecretEncrypted: overlapMs > 0 ? current.secretEncrypted : null,
        previousSecretExpiresAt: overlapMs > 0 ? new Date(Date.now() + overlapMs) : null,
        secretEncrypted: this.secrets.seal(secret),
      });
      const saved = await this.repo.save(current, tx);
      await this.record(tx, who, 'webhook.secret_rotated', saved, {
        previous_secret_expires_at: saved.previousSecretExpiresAt,
      });
      return saved;
    });
    return { subscription, secret };
  }

  async deliveries(
    ability: AppAbility,
    id: string,
    q: DeliveryQuery,
  ): Promise<Listed<WebhookDelivery & { attemptLog: WebhookAttempt[] }>> {
    await this.get(ability, id);
    return this.repo.deliveries(id, q);
  }

  /** Sends a delivered or failed delivery again (same message and `webhook-id`); 409 while it is pending. */
  async redeliver(who: Principal, ability: AppAbility, id: string, deliveryId: string): Promise<WebhookDelivery> {
    const subscription = requireAccess(ability, 'update', 'Webhook', await this.repo.findById(id), { details: { id } });
    return this.transactions.run(async (tx) => {
      const delivery = await this.repo.findDelivery(deliveryId, tx);
      if (!delivery || delivery.subscriptionId !== id)
        throw new CommonError('not_found', 'Delivery not found.', { id: deliveryId });
      await this.repo.lockLanes(tx, [delivery]);
      if (!(await this.repo.reopen(tx, deliveryId)))
        throw new WebhookError('delivery_pending', 'The delivery is still pending: it is being sent.', {
          id: deliveryId,
        });
      await this.record(tx, who, 'webhook.redelivered', subscription, { delivery: deliveryId });
      const [head] = await this.repo.laneHeads(tx, id, [delivery.subjectId]);
      if (head === deliveryId && subscription.active)
        await this.deliverer.enqueue(tx, deliveryId, subscription.organizationId);
      return (await this.repo.findDelivery(deliveryId, tx))!;
    });
  }

  /** A `ping` event to the subscription's URL (also when it is disabled, to test a fixed URL). */
  async ping(who: Principal, ability: AppAbility, id: string): Promise<WebhookDelivery> {
    const subscription = requireAccess(ability, 'update', 'Webhook', await this.repo.findById(id), { details: { id } });
    return this.transactions.run(async (tx) => {
      const eventId = randomUUID();
      const body = messageBody({
        id: eventId,
        type: 'ping',
        occurredAt: new Date(),
        organizationId: subscription.organizationId,
        subjectType: 'Webhook',
        subjectId: subscription.id,
        payload: { webhook: subscription.id },
      });
      const [delivery] = await this.repo.insertDeliveries(tx, [
        { subscriptionId: id, eventId, eventType: 'ping', subjectId: id, seq: '0', body },
      ]);
      await this.deliverer.enqueue(tx, delivery.id, subscription.organizationId);
      return (await this.repo.findDelivery(delivery.id, tx))!;
    });
  }

  private checkUrl(raw: string): void {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new WebhookError('invalid_url', 'url is not a URL.', { url: raw });
    }
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const plainAllowed = this.settings.WEBHOOK_ALLOW_HTTP || isLoopback(host);
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && plainAllowed))
      throw new WebhookError('invalid_url', 'A webhook URL must be https (http only for loopback hosts).', {
        url: raw,
      });
    if (url.username || url.password)
      throw new WebhookError('invalid_url', 'A webhook URL must not hold credentials.', { url: url.origin });
  }

  private checkEventTypes(types: string[]): void {
    const unknown = unknownPatterns(types);
    if (unknown.length > 0)
      throw new WebhookError('unknown_event_type', `No event type matches ${unknown.join(', ')}.`, { unknown });
  }

  private record(
    tx: import('typeorm').EntityManager,
    who: Principal,
    action: string,
    w: WebhookSubscription,
    data: Record<string, unknown>,
  ): Promise<void> {
    return this.audit.record(
      { action, actor: who, subjectType: 'Webhook', subjectId: w.id, organizationId: w.organizationId, data },
      tx,
    );
  }
}
