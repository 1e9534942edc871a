import { Column, Entity, ForeignKey, Index } from 'typeorm';
import { BaseEntity } from '../../../database/base.entity';

/** A one-time dynamic registration URL of an organization: the platform that uses it joins that organization. */
@Entity('lti_registration_links')
@Index('uq_lti_registration_links_token', ['tokenHash'], { unique: true })
export class LtiRegistrationLink extends BaseEntity {
  @Column({ type: 'uuid' })
  @ForeignKey('organizations', { name: 'fk_lti_registration_links_organization', onDelete: 'CASCADE' })
  organizationId: string;

  /** SHA-256 of the link's token (the token itself is only in the URL handed out). */
  @Column({ type: 'char', length: 64 })
  tokenHash: string;

  @Column({ type: 'timestamptz' })
  expiresAt: Date;

  @Column({ type: 'timestamptz', nullable: true })
  usedAt: Date | null;

  /** The platform the registration made. */
  @Column({ type: 'uuid', nullable: true })
  @ForeignKey('lti_platforms', { name: 'fk_lti_registration_links_platform', onDelete: 'SET NULL' })
  platformId: string | null;

  @Column({ type: 'uuid', nullable: true })
  createdBy: string | null;
}
