import { Column, Entity, ForeignKey, Index } from 'typeorm';
import { BaseEntity } from '../../../database/base.entity';

/** The answer to a deep-linking launch: one per launch, so a picker page cannot answer twice. */
@Entity('lti_deep_link_responses')
@Index('uq_lti_deep_link_responses_launch', ['launchId'], { unique: true })
export class LtiDeepLinkResponse extends BaseEntity {
  @Column({ type: 'uuid' })
  @ForeignKey('lti_launches', { name: 'fk_lti_deep_link_responses_launch', onDelete: 'CASCADE' })
  launchId: string;

  /** The content items sent back. */
  @Column({ type: 'jsonb' })
  items: unknown[];
}
