import { Check, Column, Entity, ForeignKey, Index } from 'typeorm';
import { BaseEntity } from '../../database/base.entity';
import type { ProjectRoleName } from './lti-roles';

/** An LMS course (context) of a platform (or LTI 1.1 consumer) and the course project it is, with the role groups launches manage. */
@Entity('lti_contexts')
@Index('uq_lti_contexts_context', ['platformId', 'contextId'], { unique: true })
@Index('uq_lti_contexts_consumer_context', ['consumerId', 'contextId'], { unique: true })
@Check('ck_lti_contexts_source', 'num_nonnulls(platform_id, consumer_id) = 1')
@Index('ix_lti_contexts_project', ['projectId'])
export class LtiContext extends BaseEntity {
  @Column({ type: 'uuid', nullable: true })
  @ForeignKey('lti_platforms', { name: 'fk_lti_contexts_platform', onDelete: 'CASCADE' })
  platformId: string | null;

  /** The LTI 1.1 consumer whose launches made the context (then `platformId` is null). */
  @Column({ type: 'uuid', nullable: true })
  @ForeignKey('lti_consumers', { name: 'fk_lti_contexts_consumer', onDelete: 'CASCADE' })
  consumerId: string | null;

  @Column({ type: 'varchar', length: 255 })
  contextId: string;

  @Column({ type: 'uuid' })
  @ForeignKey('projects', { name: 'fk_lti_contexts_project', onDelete: 'RESTRICT' })
  projectId: string;

  @Column({ type: 'varchar', length: 255, default: '' })
  title: string;

  @Column({ type: 'varchar', length: 255, default: '' })
  label: string;

  /** The project's groups launches keep members in line with: project role → group id. */
  @Column({ type: 'jsonb' })
  groupIds: Record<ProjectRoleName, string>;

  /** When the roster (NRPS) was last brought in line with the LMS. */
  @Column({ type: 'timestamptz', nullable: true })
  rosterSyncedAt: Date | null;
}
