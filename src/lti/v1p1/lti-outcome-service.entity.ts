import { Column, Entity, ForeignKey, Index } from 'typeorm';
import { BaseEntity } from '../../database/base.entity';

/** A consumer's Basic Outcomes endpoint (`lis_outcome_service_url`), as launches named it. */
@Entity('lti_outcome_services')
@Index('uq_lti_outcome_services_url', ['consumerId', 'lisOutcomeServiceUrl'], { unique: true })
export class LtiOutcomeService extends BaseEntity {
  @Column({ type: 'uuid' })
  @ForeignKey('lti_consumers', { name: 'fk_lti_outcome_services_consumer', onDelete: 'CASCADE' })
  consumerId: string;

  @Column({ type: 'varchar', length: 2048 })
  lisOutcomeServiceUrl: string;
}
