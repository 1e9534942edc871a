import { Column, Entity, ForeignKey, Index } from 'typeorm';
import { BaseEntity } from '../../../database/base.entity';

/** A result read back from a platform's line item (AGS result service): the LMS gradebook's view of a score. */
@Entity('lti_results')
@Index('uq_lti_results_member', ['lineItemUrl', 'ltiUserId'], { unique: true })
@Index('ix_lti_results_context_user', ['contextRef', 'userId'])
export class LtiResult extends BaseEntity {
  @Column({ type: 'uuid' })
  @ForeignKey('lti_platforms', { name: 'fk_lti_results_platform', onDelete: 'CASCADE' })
  platformId: string;

  @Column({ type: 'uuid' })
  @ForeignKey('lti_contexts', { name: 'fk_lti_results_context', onDelete: 'CASCADE' })
  contextRef: string;

  @Column({ type: 'varchar', length: 2048 })
  lineItemUrl: string;

  /** The platform's user id (the launch `sub`). */
  @Column({ type: 'varchar', length: 255 })
  ltiUserId: string;

  /** Our user of that identity, when there is one. */
  @Column({ type: 'uuid', nullable: true })
  @ForeignKey('users', { name: 'fk_lti_results_user', onDelete: 'SET NULL' })
  userId: string | null;

  @Column({ type: 'double precision', nullable: true })
  resultScore: number | null;

  @Column({ type: 'double precision', nullable: true })
  resultMaximum: number | null;

  @Column({ type: 'text', nullable: true })
  comment: string | null;
}
