import { Column, Entity, Index } from 'typeorm';
import { BaseEntity } from '../../database/base.entity';

export type SigningKeyStatus = 'active' | 'retiring' | 'retired';

/** What a key signs: our access tokens, or what the LTI tool sends platforms (client assertions, deep-linking answers). */
export type SigningKeyPurpose = 'access_token' | 'lti_tool';

/** A key we sign tokens with (one ring of keys per purpose). The private part is encrypted at rest with the key-encryption secret. */
@Entity('signing_keys')
export class SigningKey extends BaseEntity {
  @Index('uq_signing_keys_kid', { unique: true })
  @Column({ type: 'varchar', length: 64 })
  kid: string;

  @Column({ type: 'varchar', length: 10 })
  alg: string;

  @Column({ type: 'varchar', length: 16, default: 'access_token' })
  purpose: SigningKeyPurpose;

  @Column({ type: 'jsonb' })
  publicJwk: Record<string, unknown>;

  /** AES-256-GCM: base64url(iv).base64url(tag).base64url(ciphertext of the PKCS#8 PEM). */
  @Column({ type: 'text', select: false })
  privateKeyEncrypted: string;

  @Column({ type: 'varchar', length: 10 })
  status: SigningKeyStatus;

  /** When a retiring key may be retired: after every token it signed has expired. */
  @Column({ type: 'timestamptz', nullable: true })
  retireAfter: Date | null;
}
