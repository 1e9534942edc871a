import { Column, Entity, ForeignKey, Index, PrimaryColumn } from 'typeorm';

/** An `oauth_nonce` a consumer used, kept while a request with its timestamp could still be accepted. */
@Entity('lti_oauth_nonces')
@Index('ix_lti_oauth_nonces_expires', ['expiresAt'])
export class LtiOAuthNonce {
  @PrimaryColumn({ type: 'uuid' })
  @ForeignKey('lti_consumers', { name: 'fk_lti_oauth_nonces_consumer', onDelete: 'CASCADE' })
  consumerId: string;

  @PrimaryColumn({ type: 'varchar', length: 255 })
  nonce: string;

  @Column({ type: 'timestamptz' })
  expiresAt: Date;
}
