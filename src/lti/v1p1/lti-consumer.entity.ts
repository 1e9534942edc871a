import { Check, Column, Entity, ForeignKey, Index } from 'typeorm';
import { BaseEntity } from '../../database/base.entity';
import type { CourseAccountPolicy } from '../platforms/lti-platform.entity';
import type { ProjectRoleName } from '../provisioning/lti-roles';

/**
 * An LMS that launches the tool over LTI 1.1, with the key and shared secret it signs with (OAuth 1.0a
 * HMAC-SHA1). The secret is needed in clear to check signatures, so it is stored encrypted with
 * KEY_ENCRYPTION_SECRET and shown once, when made. Deleting one sets `deleted_at`: its launches are
 * refused, its users and projects stay, its name and key may be used again.
 */
@Entity('lti_consumers')
@Index('uq_lti_consumers_name', ['consumerName'], { unique: true, where: 'deleted_at IS NULL' })
@Index('uq_lti_consumers_key', ['consumerKey'], { unique: true, where: 'deleted_at IS NULL' })
@Index('uq_lti_consumers_instance_guid', ['instanceGuid'], { unique: true, where: 'deleted_at IS NULL' })
@Index('ix_lti_consumers_organization', ['organizationId'])
@Check('ck_lti_consumers_course_accounts', `course_accounts_on_launch IN ('never', 'always', 'when_link_asks')`)
export class LtiConsumer extends BaseEntity {
  @Column({ type: 'uuid' })
  @ForeignKey('organizations', { name: 'fk_lti_consumers_organization', onDelete: 'CASCADE' })
  organizationId: string;

  @Column({ type: 'varchar', length: 255 })
  consumerName: string;

  @Column({ type: 'varchar', length: 255 })
  consumerKey: string;

  /** The shared secret, sealed (AES-256-GCM, key from KEY_ENCRYPTION_SECRET). */
  @Column({ type: 'text' })
  consumerSecret: string;

  /** `tool_consumer_instance_guid`: set by the admin, or by the first launch that carries one. */
  @Column({ type: 'varchar', length: 255, nullable: true })
  instanceGuid: string | null;

  /** Overrides of the default role mapping, as for LTI 1.3 platforms. */
  @Column({ type: 'jsonb', default: {} })
  roleMappings: Record<string, ProjectRoleName | 'none'>;

  /** The consumer checks the e-mail addresses it sends. */
  @Column({ type: 'boolean', default: false })
  verifiesEmail: boolean;

  @Column({ type: 'varchar', length: 16, default: 'never' })
  courseAccountsOnLaunch: CourseAccountPolicy;

  @Column({ type: 'timestamptz', nullable: true })
  deletedAt: Date | null;
}
