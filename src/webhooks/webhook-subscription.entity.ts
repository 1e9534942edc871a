import { Column, Entity, ForeignKey, Index } from 'typeorm';
import { BaseEntity } from '../database/base.entity';

/**
 * A site agent's subscription to an organization's events. The signing secret is kept encrypted
 * (it must be used in clear to sign); after a rotation the previous one signs too until
 * `previous_secret_expires_at`.
 */
@Entity('webhook_subscriptions')
@Index('ix_webhook_subscriptions_org', ['organizationId', 'createdAt'])
export class WebhookSubscription extends BaseEntity {
  @Column({ type: 'uuid' })
  @ForeignKey('organizations', { name: 'fk_webhook_subscriptions_organization', onDelete: 'CASCADE' })
  organizationId: string;

  @Column({ type: 'text' })
  url: string;

  /** Event types, or patterns with `*` (`course_account.*`, `*`). */
  @Column({ type: 'text', array: true })
  eventTypes: string[];

  @Column({ type: 'text', default: '' })
  description: string;

  @Column({ type: 'boolean', default: true })
  active: boolean;

  /** Why the application disabled it (a day of failed deliveries); null when active or disabled by a user. */
  @Column({ type: 'text', nullable: true })
  disabledReason: string | null;

  @Column({ type: 'text' })
  secretEncrypted: string;

  @Column({ type: 'text', nullable: true })
  previousSecretEncrypted: string | null;

  @Column({ type: 'timestamptz', nullable: true })
  previousSecretExpiresAt: Date | null;
}
