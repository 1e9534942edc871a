import { Check, Column, Entity, ForeignKey, Index } from 'typeorm';
import { BaseEntity } from '../database/base.entity';

export const DELIVERY_STATES = ['pending', 'delivered', 'failed'] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

/**
 * One event for one subscription: the message as it is sent (the same bytes on every attempt), and
 * where its delivery stands. Deliveries of one (subscription, subject) are sent in `seq` order: one
 * is sent only once every earlier one of its lane is delivered or failed.
 */
@Entity('webhook_deliveries')
@Index('uq_webhook_deliveries_event', ['subscriptionId', 'eventId'], { unique: true })
@Index('ix_webhook_deliveries_lane', ['subscriptionId', 'subjectId', 'seq'], { where: `state = 'pending'` })
@Index('ix_webhook_deliveries_list', ['subscriptionId', 'createdAt'])
@Check('ck_webhook_deliveries_state', `state IN ('pending', 'delivered', 'failed')`)
export class WebhookDelivery extends BaseEntity {
  @Column({ type: 'uuid' })
  @ForeignKey('webhook_subscriptions', { name: 'fk_webhook_deliveries_subscription', onDelete: 'CASCADE' })
  subscriptionId: string;

  /** The outbox event's id (a ping's own id): the message's `webhook-id`. */
  @Column({ type: 'uuid' })
  eventId: string;

  @Column({ type: 'varchar', length: 64 })
  eventType: string;

  @Column({ type: 'uuid' })
  subjectId: string;

  /** The event's outbox `seq` (pings: 0): the order within a lane. */
  @Column({ type: 'bigint' })
  seq: string;

  /** The JSON body sent. */
  @Column({ type: 'text' })
  body: string;

  @Column({ type: 'varchar', length: 16, default: 'pending' })
  state: DeliveryState;

  @Column({ type: 'int', default: 0 })
  attempts: number;

  @Column({ type: 'timestamptz', nullable: true })
  firstAttemptAt: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  lastAttemptAt: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  deliveredAt: Date | null;

  /** Why it failed (out of retries, an answer that is not retried). */
  @Column({ type: 'text', nullable: true })
  error: string | null;

  /** The job sending it: another job for the same delivery leaves it alone. */
  @Column({ type: 'uuid', nullable: true })
  claimedBy: string | null;

  @Column({ type: 'timestamptz', nullable: true })
  claimedAt: Date | null;
}
