import { Column, CreateDateColumn, Entity, ForeignKey, Index, PrimaryGeneratedColumn } from 'typeorm';

/** One attempt to deliver: what the receiver answered (status, the start of its body) or why no answer came. */
@Entity('webhook_attempts')
@Index('ix_webhook_attempts_delivery', ['deliveryId', 'createdAt'])
export class WebhookAttempt {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @Column({ type: 'uuid' })
  @ForeignKey('webhook_deliveries', { name: 'fk_webhook_attempts_delivery', onDelete: 'CASCADE' })
  deliveryId: string;

  /** HTTP status; null when no answer came (network error, timeout, refused address). */
  @Column({ type: 'int', nullable: true })
  status: number | null;

  @Column({ type: 'text', nullable: true })
  error: string | null;

  @Column({ type: 'text', default: '' })
  responseExcerpt: string;

  @Column({ type: 'int' })
  durationMs: number;
}
