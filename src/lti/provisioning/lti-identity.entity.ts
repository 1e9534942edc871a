import { Column, Entity, ForeignKey, Index } from 'typeorm';
import { BaseEntity } from '../../database/base.entity';

/** Who a platform's `sub` is here: (platform, sub) → user, never the e-mail. */
@Entity('lti_identities')
@Index('uq_lti_identities_subject', ['platformId', 'subject'], { unique: true })
@Index('ix_lti_identities_user', ['userId'])
export class LtiIdentity extends BaseEntity {
  @Column({ type: 'uuid' })
  @ForeignKey('lti_platforms', { name: 'fk_lti_identities_platform', onDelete: 'CASCADE' })
  platformId: string;

  @Column({ type: 'varchar', length: 255 })
  subject: string;

  @Column({ type: 'uuid' })
  @ForeignKey('users', { name: 'fk_lti_identities_user', onDelete: 'CASCADE' })
  userId: string;

  /** The user's e-mail came from a platform that verifies e-mails. */
  @Column({ type: 'boolean', default: false })
  emailVerified: boolean;
}
