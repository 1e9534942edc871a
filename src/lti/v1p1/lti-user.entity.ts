import { Column, Entity, ForeignKey, Index } from 'typeorm';
import { BaseEntity } from '../../database/base.entity';

/** Who an LTI 1.1 consumer's `user_id` is here: (consumer, user_id) → user, never the e-mail. */
@Entity('lti_users')
@Index('uq_lti_users_consumer_user', ['consumerId', 'ltiUserId'], { unique: true })
@Index('ix_lti_users_user', ['userId'])
export class LtiUser extends BaseEntity {
  @Column({ type: 'uuid' })
  @ForeignKey('lti_consumers', { name: 'fk_lti_users_consumer', onDelete: 'CASCADE' })
  consumerId: string;

  /** The launch's `user_id`. */
  @Column({ type: 'varchar', length: 255 })
  ltiUserId: string;

  @Column({ type: 'uuid' })
  @ForeignKey('users', { name: 'fk_lti_users_user', onDelete: 'CASCADE' })
  userId: string;

  @Column({ type: 'boolean', default: false })
  emailVerified: boolean;
}
