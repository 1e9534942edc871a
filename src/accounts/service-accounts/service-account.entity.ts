import { Column, Entity, ForeignKey, Index } from 'typeorm';
import { BaseEntity } from '../../database/base.entity';

/** A machine client of an organization; authenticates with client credentials at /oauth/token. */
@Entity('service_accounts')
export class ServiceAccount extends BaseEntity {
  @Index('ix_service_accounts_organization')
  @Column({ type: 'uuid' })
  @ForeignKey('organizations', { name: 'fk_service_accounts_organization', onDelete: 'RESTRICT' })
  organizationId: string;

  @Index('uq_service_accounts_client_id', { unique: true })
  @Column({ type: 'varchar', length: 64 })
  clientId: string;

  @Column({ type: 'varchar', length: 255 })
  name: string;

  @Column({ type: 'text', default: '' })
  description: string;

  /** Scopes this client may request; an empty request gets all of them. */
  @Column({ type: 'text', array: true, default: () => "'{}'" })
  allowedScopes: string[];

  @Column({ type: 'boolean', default: true })
  isActive: boolean;

  /**
   * Public keys (a JWK Set) the client signs its client assertions with (private_key_jwt, RFC 7523 §2.2).
   * With keys (here or at `jwksUri`) the client authenticates with them only, never with a secret.
   */
  @Column({ type: 'jsonb', nullable: true })
  jwks: { keys: Record<string, unknown>[] } | null;

  /** Where the client publishes its JWK Set instead (https). */
  @Column({ type: 'varchar', length: 2048, nullable: true })
  jwksUri: string | null;

  /** Tokens issued before this (their `iat`, in whole seconds) are refused: an admin revoked them all. */
  @Column({ type: 'timestamptz', nullable: true })
  tokensValidAfter: Date | null;
}

/** One secret of a service account. Several can be live at once while a rotation overlaps. */
@Entity('service_account_secrets')
export class ServiceAccountSecret extends BaseEntity {
  @Index('ix_service_account_secrets_account')
  @Column({ type: 'uuid' })
  @ForeignKey('service_accounts', { name: 'fk_service_account_secrets_account', onDelete: 'CASCADE' })
  serviceAccountId: string;

  /** SHA-256 of the secret (hex). The secret itself is never stored. */
  @Column({ type: 'char', length: 64, select: false })
  secretHash: string;

  /** The first characters of the secret, to tell secrets apart in listings. */
  @Column({ type: 'varchar', length: 16 })
  prefix: string;

  /** Null: valid until revoked or rotated. */
  @Column({ type: 'timestamptz', nullable: true })
  expiresAt: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  revokedAt: Date | null;
}
