import { Column, Entity, Generated, Index } from 'typeorm';
import { BaseEntity } from '../database/base.entity';

/**
 * One change another system may want to hear of (`course_account.state_changed`, `project.created`…),
 * written by the module that made the change in the same transaction (an outbox). `created_at` is
 * when it happened; `seq` orders events as their transactions wrote them. `relayed_at` is set once
 * every consumer (webhooks, participant e-mails) has taken the event, in the consumers' transaction.
 *
 * The organization and subject are plain uuid columns without foreign keys: an event outlives what
 * it tells of (`project.deleted`).
 */
@Entity('outbox_events')
@Index('ix_outbox_events_unrelayed', ['seq'], { where: 'relayed_at IS NULL' })
@Index('ix_outbox_events_relayed', ['relayedAt'], { where: 'relayed_at IS NOT NULL' })
export class OutboxEvent extends BaseEntity {
  @Column({ type: 'bigint' })
  @Generated('increment')
  seq: string;

  /** `course_account.created`, `project.deleted`, `membership.added`… */
  @Column({ type: 'varchar', length: 64 })
  type: string;

  @Column({ type: 'uuid', nullable: true })
  organizationId: string | null;

  /** `CourseAccount`, `Project`, `Group`. */
  @Column({ type: 'varchar', length: 32 })
  subjectType: string;

  @Column({ type: 'uuid' })
  subjectId: string;

  /** What changed; never secrets. */
  @Column({ type: 'jsonb', default: {} })
  payload: Record<string, unknown>;

  @Column({ type: 'timestamptz', nullable: true })
  relayedAt: Date | null;
}
