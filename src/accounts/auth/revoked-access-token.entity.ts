import { Column, Entity, Index } from 'typeorm';
import { BaseEntity } from '../../database/base.entity';

/**
 * The deny list of our access tokens (RFC 7009 revocation): a token's `jti`, or the session id (`sid`,
 * its refresh-token family) that every access token of a revoked session carries, until the last such
 * token would have expired. The principal lookup of every request reads it in its one statement.
 */
@Entity('revoked_access_tokens')
export class RevokedAccessToken extends BaseEntity {
  @Index('uq_revoked_access_tokens_jti', { unique: true })
  @Column({ type: 'varchar', length: 255 })
  jti: string;

  /** After this the token it names is refused by its `exp` anyway, and the row may go. */
  @Index('ix_revoked_access_tokens_expires')
  @Column({ type: 'timestamptz' })
  expiresAt: Date;
}
