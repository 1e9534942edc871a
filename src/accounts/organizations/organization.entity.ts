import { Column, Entity, Index } from 'typeorm';
import { BaseEntity } from '../../database/base.entity';

/** The tenant boundary: every tenant-owned row carries organization_id. */
@Entity('organizations')
export class Organization extends BaseEntity {
  @Index('uq_organizations_key', { unique: true })
  @Column({ type: 'varchar', length: 64 })
  key: string;

  @Column({ type: 'varchar', length: 255 })
  name: string;
}
