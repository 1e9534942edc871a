import { Check, Column, Entity, ForeignKey, Index } from 'typeorm';
import { BaseEntity } from '../database/base.entity';

export const MAIL_KINDS = ['welcome', 'expiry_notice', 'closed'] as const;
export type MailKind = (typeof MAIL_KINDS)[number];

/** An organization's own text for one kind of participant e-mail (else the defaults). */
@Entity('mail_templates')
@Index('uq_mail_templates_org_kind', ['organizationId', 'kind'], { unique: true })
@Check('ck_mail_templates_kind', `kind IN ('welcome', 'expiry_notice', 'closed')`)
export class MailTemplate extends BaseEntity {
  @Column({ type: 'uuid' })
  @ForeignKey('organizations', { name: 'fk_mail_templates_organization', onDelete: 'CASCADE' })
  organizationId: string;

  @Column({ type: 'varchar', length: 32 })
  kind: MailKind;

  @Column({ type: 'text' })
  subject: string;

  @Column({ type: 'text' })
  text: string;

  @Column({ type: 'text' })
  html: string;
}
