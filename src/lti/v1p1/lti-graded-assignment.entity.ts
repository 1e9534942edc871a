import { Check, Column, Entity, ForeignKey, Index } from 'typeorm';
import { BaseEntity } from '../../database/base.entity';

export const DELIVERY_STATES = ['none', 'pending', 'delivered', 'failed'] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];
export const OUTCOME_OPERATIONS = ['replace', 'delete'] as const;
export type OutcomeOperation = (typeof OUTCOME_OPERATIONS)[number];

/**
 * A gradebook cell of an LTI 1.1 consumer: the user's result (`lis_result_sourcedid`) at an outcome
 * service, with the latest score asked for and how its delivery went. `revision` counts the requests,
 * so a delivery of an older request never overwrites the state of a newer one.
 */
@Entity('lti_graded_assignments')
@Index('uq_lti_graded_assignments_sourcedid', ['outcomeServiceId', 'lisResultSourcedid'], { unique: true })
@Index('ix_lti_graded_assignments_user', ['userId'])
@Index('ix_lti_graded_assignments_project', ['projectId'])
@Index('ix_lti_graded_assignments_organization', ['organizationId'])
@Check('ck_lti_graded_assignments_state', `state IN ('none', 'pending', 'delivered', 'failed')`)
@Check('ck_lti_graded_assignments_operation', `operation IS NULL OR operation IN ('replace', 'delete')`)
@Check('ck_lti_graded_assignments_score', 'score IS NULL OR (score >= 0 AND score <= 1)')
export class LtiGradedAssignment extends BaseEntity {
  /** The consumer's organization (what abilities scope on). */
  @Column({ type: 'uuid' })
  @ForeignKey('organizations', { name: 'fk_lti_graded_assignments_organization', onDelete: 'CASCADE' })
  organizationId: string;

  /** The course project of the launch's context, when it had one. */
  @Column({ type: 'uuid', nullable: true })
  @ForeignKey('projects', { name: 'fk_lti_graded_assignments_project', onDelete: 'SET NULL' })
  projectId: string | null;

  @Column({ type: 'uuid' })
  @ForeignKey('users', { name: 'fk_lti_graded_assignments_user', onDelete: 'CASCADE' })
  userId: string;

  @Column({ type: 'uuid' })
  @ForeignKey('lti_outcome_services', { name: 'fk_lti_graded_assignments_service', onDelete: 'CASCADE' })
  outcomeServiceId: string;

  @Column({ type: 'varchar', length: 2048 })
  lisResultSourcedid: string;

  @Column({ type: 'varchar', length: 255, default: '' })
  resourceLinkId: string;

  @Column({ type: 'varchar', length: 16, default: 'none' })
  state: DeliveryState;

  /** The latest request: replace (with `score`) or delete. */
  @Column({ type: 'varchar', length: 16, nullable: true })
  operation: OutcomeOperation | null;

  @Column({ type: 'double precision', nullable: true })
  score: number | null;

  @Column({ type: 'integer', default: 0 })
  revision: number;

  @Column({ type: 'integer', default: 0 })
  attempts: number;

  @Column({ type: 'text', nullable: true })
  lastError: string | null;

  @Column({ type: 'uuid', nullable: true })
  jobId: string | null;

  @Column({ type: 'timestamptz', nullable: true })
  requestedAt: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  deliveredAt: Date | null;
}
