import { Check, Column, Entity, ForeignKey, Index } from 'typeorm';
import { BaseEntity } from '../database/base.entity';
import type { MailKind } from './mail-template.entity';

export type EmailState = 'pending' | 'sent' | 'failed';

/**
 * One e-mail to a course account's participant and where its sending stands. At most one of each
 * kind per account (`uq_participant_emails_account_kind`): a repeated event sends nothing twice.
 */
@Entity('participant_emails')
@Index('uq_participant_emails_account_kind', ['courseAccountId', 'kind'], { unique: true })
@Check('ck_participant_emails_state', `state IN ('pending', 'sent', 'failed')`)
export class ParticipantEmail extends BaseEntity {
  @Column({ type: 'uuid' })
  @ForeignKey('course_accounts', { name: 'fk_participant_emails_course_account', onDelete: 'CASCADE' })
  courseAccountId: string;

  @Column({ type: 'uuid' })
  organizationId: string;

  @Column({ type: 'varchar', length: 32 })
  kind: MailKind;

  @Column({ type: 'varchar', length: 254 })
  recipient: string;

  @Column({ type: 'varchar', length: 16, default: 'pending' })
  state: EmailState;

  @Column({ type: 'int', default: 0 })
  attempts: number;

  @Column({ type: 'text', nullable: true })
  subject: string | null;

  @Column({ type: 'text', nullable: true })
  error: string | null;

  /** The SMTP server's message id, or the .eml file written without SMTP. */
  @Column({ type: 'text', nullable: true })
  messageId: string | null;

  @Column({ type: 'timestamptz', nullable: true })
  sentAt: Date | null;
}
