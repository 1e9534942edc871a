import { Column, Entity, ForeignKey, Index } from 'typeorm';
import { BaseEntity } from '../../database/base.entity';

/** A user seen through a trusted external issuer: (issuer, sub) → user. */
@Entity('external_identities')
@Index('uq_external_identities_issuer_sub', ['issuer', 'subject'], { unique: true })
export class ExternalIdentity extends BaseEntity {
  @Column({ type: 'varchar', length: 512 })
  issuer: string;

  @Column({ type: 'varchar', length: 255 })
  subject: string;

  @Index('ix_external_identities_user')
  @Column({ type: 'uuid' })
  @ForeignKey('users', { name: 'fk_external_identities_user', onDelete: 'CASCADE' })
  userId: string;
}
