import { Check, Column, Entity, ForeignKey, Index } from 'typeorm';
import { BaseEntity } from '../../database/base.entity';

/** A resource link (a placement of the tool in an LMS course), with the grade-service endpoints its launches name. */
@Entity('lti_resource_links')
@Index('uq_lti_resource_links_link', ['platformId', 'resourceLinkId'], { unique: true })
@Index('uq_lti_resource_links_consumer_link', ['consumerId', 'resourceLinkId'], { unique: true })
@Check('ck_lti_resource_links_source', 'num_nonnulls(platform_id, consumer_id) = 1')
export class LtiResourceLink extends BaseEntity {
  @Column({ type: 'uuid', nullable: true })
  @ForeignKey('lti_platforms', { name: 'fk_lti_resource_links_platform', onDelete: 'CASCADE' })
  platformId: string | null;

  /** The LTI 1.1 consumer of the link (then `platformId` is null). */
  @Column({ type: 'uuid', nullable: true })
  @ForeignKey('lti_consumers', { name: 'fk_lti_resource_links_consumer', onDelete: 'CASCADE' })
  consumerId: string | null;

  @Column({ type: 'varchar', length: 255 })
  resourceLinkId: string;

  @Column({ type: 'uuid', nullable: true })
  @ForeignKey('lti_contexts', { name: 'fk_lti_resource_links_context', onDelete: 'CASCADE' })
  contextRef: string | null;

  @Column({ type: 'varchar', length: 255, default: '' })
  title: string;

  /** The AGS endpoint claim of its latest launch (line items, scopes), for grade passback. */
  @Column({ type: 'jsonb', nullable: true })
  agsEndpoint: Record<string, unknown> | null;
}
