import { Column, Entity, ForeignKey, Index } from 'typeorm';
import { BaseEntity } from '../../database/base.entity';

/** Lets a newly admitted person prove who they are once and set a password. */
@Entity('activation_records')
export class ActivationRecord extends BaseEntity {
  @Index('ix_activation_records_organization')
  @Column({ type: 'uuid' })
  @ForeignKey('organizations', { name: 'fk_activation_records_organization', onDelete: 'CASCADE' })
  organizationId: string;

  /** The user the record activates. */
  @Index('ix_activation_records_user')
  @Column({ type: 'uuid' })
  @ForeignKey('users', { name: 'fk_activation_records_user', onDelete: 'CASCADE' })
  userId: string;

  /** Lower-cased institutional id (CRSid); matched case-insensitively. */
  @Index('ix_activation_records_crsid')
  @Column({ type: 'varchar', length: 150 })
  crsid: string;

  /** Lower-cased last name. */
  @Index('ix_activation_records_last_name')
  @Column({ type: 'varchar', length: 150 })
  lastName: string;

  @Column({ type: 'date' })
  dateOfBirth: string;

  /** SHA-256 of the activation code (hex). */
  @Column({ type: 'char', length: 64, select: false })
  codeHash: string;

  @Column({ type: 'timestamptz' })
  expiresAt: Date;

  @Column({ type: 'timestamptz', nullable: true })
  usedAt: Date | null;

  @Column({ type: 'int', default: 0 })
  failedAttempts: number;

  @Column({ type: 'timestamptz', nullable: true })
  lockedUntil: Date | null;
}
