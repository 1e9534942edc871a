import { Column, Entity, ForeignKey, Index } from 'typeorm';
import { BaseEntity } from '../../database/base.entity';

/** An opaque refresh token (stored hashed). Tokens of one login share a family; reusing a rotated one revokes the family. */
@Entity('refresh_tokens')
export class RefreshToken extends BaseEntity {
  @Index('uq_refresh_tokens_hash', { unique: true })
  @Column({ type: 'char', length: 64 })
  tokenHash: string;

  @Index('ix_refresh_tokens_family')
  @Column({ type: 'uuid' })
  familyId: string;

  @Index('ix_refresh_tokens_user')
  @Column({ type: 'uuid' })
  @ForeignKey('users', { name: 'fk_refresh_tokens_user', onDelete: 'CASCADE' })
  userId: string;

  @Column({ type: 'timestamptz' })
  expiresAt: Date;

  @Column({ type: 'timestamptz', nullable: true })
  rotatedAt: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  revokedAt: Date | null;
}
