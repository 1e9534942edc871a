import { Check, Column, Entity, ForeignKey, Index } from 'typeorm';
import { BaseEntity } from '../../../database/base.entity';

export const SCORE_STATES = ['pending', 'delivered', 'failed'] as const;
export type ScoreState = (typeof SCORE_STATES)[number];

/**
 * A score posted to a platform's gradebook (AGS): what we send (the score+json body), to which line
 * item, and how its delivery went. The job that delivers it writes `state` and the platform's answer.
 */
@Entity('lti_scores')
@Index('ix_lti_scores_link', ['resourceLinkRef', 'createdAt'])
@Check('ck_lti_scores_state', `state IN ('pending', 'delivered', 'failed')`)
export class LtiScore extends BaseEntity {
  @Column({ type: 'uuid' })
  @ForeignKey('lti_platforms', { name: 'fk_lti_scores_platform', onDelete: 'CASCADE' })
  platformId: string;

  @Column({ type: 'uuid' })
  @ForeignKey('lti_resource_links', { name: 'fk_lti_scores_resource_link', onDelete: 'CASCADE' })
  resourceLinkRef: string;

  @Column({ type: 'uuid' })
  organizationId: string;

  @Column({ type: 'uuid' })
  projectId: string;

  /** Our user the score is for. */
  @Column({ type: 'uuid' })
  @ForeignKey('users', { name: 'fk_lti_scores_user', onDelete: 'CASCADE' })
  userId: string;

  /** The score+json body, as posted (`userId` is the platform's id of the user). */
  @Column({ type: 'jsonb' })
  body: Record<string, unknown>;

  @Column({ type: 'varchar', length: 16, default: 'pending' })
  state: ScoreState;

  /** The line item the score went to (known once the job found or made it). */
  @Column({ type: 'varchar', length: 2048, nullable: true })
  lineItemUrl: string | null;

  @Column({ type: 'uuid', nullable: true })
  jobId: string | null;

  @Column({ type: 'int', default: 0 })
  attempts: number;

  /** The platform's last HTTP status, and the start of its answer (or the network error). */
  @Column({ type: 'int', nullable: true })
  platformStatus: number | null;

  @Column({ type: 'text', nullable: true })
  platformAnswer: string | null;

  @Column({ type: 'timestamptz', nullable: true })
  deliveredAt: Date | null;
}
