import { Column, Entity, ForeignKey, Index } from 'typeorm';
import { BaseEntity } from '../../database/base.entity';
import type { ProjectRoleName } from './lti-roles';

/** An LMS course (context) of a platform and the course project it is, with the role groups launches manage. */
@Entity('lti_contexts')
@Index('uq_lti_contexts_context', ['platformId', 'contextId'], { unique: true })
@Index('ix_lti_contexts_project', ['projectId'])
export class LtiContext extends BaseEntity {
  @Column({ type: 'uuid' })
  @ForeignKey('lti_platforms', { name: 'fk_lti_contexts_platform', onDelete: 'CASCADE' })
  platformId: string;

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
