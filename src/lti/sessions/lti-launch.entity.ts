import { Check, Column, Entity, ForeignKey, Index } from 'typeorm';
import { BaseEntity } from '../../database/base.entity';

/**
 * A valid launch: who, from which platform and deployment (or LTI 1.1 consumer), into which context and resource link,
 * with which roles and claims. Its id is the one-time `launch_id` the browser exchanges for a
 * session (within a minute, once); the record stays for the services that act on launches.
 */
@Entity('lti_launches')
@Index('ix_lti_launches_user', ['userId', 'createdAt'])
@Index('ix_lti_launches_platform', ['platformId', 'createdAt'])
@Index('ix_lti_launches_consumer', ['consumerId', 'createdAt'])
@Check('ck_lti_launches_source', 'num_nonnulls(platform_id, consumer_id) = 1')
export class LtiLaunch extends BaseEntity {
  @Column({ type: 'uuid', nullable: true })
  @ForeignKey('lti_platforms', { name: 'fk_lti_launches_platform', onDelete: 'CASCADE' })
  platformId: string | null;

  /** The LTI 1.1 consumer of the launch (then `platformId` is null). */
  @Column({ type: 'uuid', nullable: true })
  @ForeignKey('lti_consumers', { name: 'fk_lti_launches_consumer', onDelete: 'CASCADE' })
  consumerId: string | null;

  /** The LTI 1.3 deployment; empty for an LTI 1.1 launch. */
  @Column({ type: 'varchar', length: 255 })
  deploymentId: string;

  @Column({ type: 'uuid' })
  @ForeignKey('users', { name: 'fk_lti_launches_user', onDelete: 'CASCADE' })
  userId: string;

  @Column({ type: 'uuid', nullable: true })
  @ForeignKey('lti_contexts', { name: 'fk_lti_launches_context', onDelete: 'CASCADE' })
  contextRef: string | null;

  @Column({ type: 'uuid', nullable: true })
  @ForeignKey('lti_resource_links', { name: 'fk_lti_launches_resource_link', onDelete: 'CASCADE' })
  resourceLinkRef: string | null;

  /** The project of the context, when there is one. */
  @Column({ type: 'uuid', nullable: true })
  projectId: string | null;

  @Column({ type: 'varchar', length: 64 })
  messageType: string;

  @Column({ type: 'text', array: true })
  roles: string[];

  @Column({ type: 'varchar', length: 64, nullable: true })
  projectRole: string | null;

  @Column({ type: 'varchar', length: 2048 })
  targetLinkUri: string;

  /** context, resource_link, custom, launch_presentation, lis, AGS and NRPS claims, tool_platform. */
  @Column({ type: 'jsonb' })
  claims: Record<string, unknown>;

  @Column({ type: 'uuid', nullable: true })
  courseAccountId: string | null;

  @Column({ type: 'timestamptz', nullable: true })
  exchangedAt: Date | null;
}
