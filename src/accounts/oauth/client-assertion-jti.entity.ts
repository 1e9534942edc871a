import { Column, Entity, Index } from 'typeorm';
import { BaseEntity } from '../../database/base.entity';

/**
 * The `jti` of every client assertion (private_key_jwt) accepted, until the assertion expires: each may
 * be used once (RFC 7523 §3, item 7), on any replica.
 */
@Entity('client_assertion_jtis')
@Index('uq_client_assertion_jtis_client_jti', ['clientId', 'jti'], { unique: true })
export class ClientAssertionJti extends BaseEntity {
  @Column({ type: 'varchar', length: 64 })
  clientId: string;

  @Column({ type: 'varchar', length: 255 })
  jti: string;

  @Index('ix_client_assertion_jtis_expires')
  @Column({ type: 'timestamptz' })
  expiresAt: Date;
}
