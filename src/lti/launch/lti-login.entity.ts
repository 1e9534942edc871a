import { Column, Entity, ForeignKey, Index } from 'typeorm';
import { BaseEntity } from '../../database/base.entity';

/**
 * One OIDC login we started: its `state`, the `nonce` bound to it and the browser secret the
 * state cookie (or the platform's postMessage storage) holds, all as SHA-256 hashes. Spent once by
 * the launch; then kept until the id_token that spent it has expired, so a replay is still
 * recognised as one.
 */
@Entity('lti_logins')
@Index('uq_lti_logins_state', ['stateHash'], { unique: true })
@Index('ix_lti_logins_nonce', ['nonceHash'])
@Index('ix_lti_logins_keep_until', ['keepUntil'])
export class LtiLogin extends BaseEntity {
  @Column({ type: 'varchar', length: 64 })
  stateHash: string;

  @Column({ type: 'varchar', length: 64 })
  nonceHash: string;

  @Column({ type: 'varchar', length: 64 })
  bindingHash: string;

  @Column({ type: 'uuid' })
  @ForeignKey('lti_platforms', { name: 'fk_lti_logins_platform', onDelete: 'CASCADE' })
  platformId: string;

  /** The `lti_deployment_id` of the login request, when it had one. */
  @Column({ type: 'varchar', length: 255, nullable: true })
  deploymentId: string | null;

  @Column({ type: 'varchar', length: 2048 })
  targetLinkUri: string;

  /** The `lti_storage_target` of the login request: the platform frame holding the browser secret. */
  @Column({ type: 'varchar', length: 255, nullable: true })
  storageTarget: string | null;

  @Column({ type: 'timestamptz' })
  expiresAt: Date;

  @Column({ type: 'timestamptz', nullable: true })
  usedAt: Date | null;

  /** When the row may be purged: the state's expiry, or once spent, the spending id_token's `exp`. */
  @Column({ type: 'timestamptz' })
  keepUntil: Date;
}
