import { Column, Entity, ForeignKey, Index } from 'typeorm';
import { BaseEntity } from '../../database/base.entity';
import type { UserKind } from './user.types';

export type { UserKind };

@Entity('users')
@Index('uq_users_username_ci', { synchronize: false })
export class User extends BaseEntity {
  /** Unique case-insensitively (a functional index on lower(username)). */
  @Column({ type: 'varchar', length: 150 })
  username: string;

  @Index('ix_users_email')
  @Column({ type: 'varchar', length: 254, nullable: true })
  email: string | null;

  @Column({ type: 'varchar', length: 150, default: '' })
  firstName: string;

  @Column({ type: 'varchar', length: 150, default: '' })
  lastName: string;

  @Column({ type: 'boolean', default: true })
  isActive: boolean;

  @Column({ type: 'boolean', default: false })
  isStaff: boolean;

  @Column({ type: 'boolean', default: false })
  isSupport: boolean;

  /** Argon2id; null for users who cannot log in with a password. */
  @Column({ type: 'varchar', length: 255, nullable: true, select: false })
  passwordHash: string | null;

  @Column({ type: 'varchar', length: 20, default: 'person' })
  kind: UserKind;

  /** The organization that created the user (null for staff and self-provisioned users). */
  @Index('ix_users_organization')
  @Column({ type: 'uuid', nullable: true })
  @ForeignKey('organizations', { name: 'fk_users_organization', onDelete: 'SET NULL' })
  organizationId: string | null;

  /** Where the user came from: `local`, `external:<issuer>`, `lti:<platform>`… */
  @Column({ type: 'varchar', length: 255, default: 'local' })
  source: string;

  @Column({ type: 'timestamptz', nullable: true })
  lastLoginAt: Date | null;
}
