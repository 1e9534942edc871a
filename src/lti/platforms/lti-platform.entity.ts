import { Check, Column, Entity, ForeignKey, Index } from 'typeorm';
import { BaseEntity } from '../../database/base.entity';
import type { ProjectRoleName } from '../provisioning/lti-roles';

/** When a launch provisions the user's course account in the context's course project. */
export const COURSE_ACCOUNT_POLICIES = ['never', 'always', 'when_link_asks'] as const;
export type CourseAccountPolicy = (typeof COURSE_ACCOUNT_POLICIES)[number];

/**
 * An LMS registered as an LTI 1.3 platform of an organization: the OIDC endpoints and JWKS it
 * signs with, the deployments it may launch from, and how its roles map onto project roles.
 * Deleting one sets `deleted_at`: its launches are refused, its users and projects stay.
 */
@Entity('lti_platforms')
@Index('uq_lti_platforms_issuer_client', ['issuer', 'clientId'], { unique: true, where: 'deleted_at IS NULL' })
@Index('ix_lti_platforms_organization', ['organizationId'])
@Check('ck_lti_platforms_course_accounts', `course_accounts_on_launch IN ('never', 'always', 'when_link_asks')`)
export class LtiPlatform extends BaseEntity {
  @Column({ type: 'uuid' })
  @ForeignKey('organizations', { name: 'fk_lti_platforms_organization', onDelete: 'CASCADE' })
  organizationId: string;

  @Column({ type: 'varchar', length: 255, default: '' })
  name: string;

  @Column({ type: 'varchar', length: 255 })
  issuer: string;

  @Column({ type: 'varchar', length: 255 })
  clientId: string;

  @Column({ type: 'varchar', length: 2048 })
  authLoginUrl: string;

  @Column({ type: 'varchar', length: 2048 })
  authTokenUrl: string;

  @Column({ type: 'varchar', length: 2048 })
  jwksUrl: string;

  /** The deployment ids launches may carry (at least one). */
  @Column({ type: 'text', array: true })
  deploymentIds: string[];

  /** Overrides of the default role mapping: canonical LIS role URI → project role or `none`. */
  @Column({ type: 'jsonb', default: {} })
  roleMappings: Record<string, ProjectRoleName | 'none'>;

  /** The platform checks the e-mail addresses it sends: only then does a launch's e-mail count as verified. */
  @Column({ type: 'boolean', default: false })
  verifiesEmail: boolean;

  /** Whether a launch provisions the user's course account (`when_link_asks`: the link's custom parameter decides). */
  @Column({ type: 'varchar', length: 16, default: 'never' })
  courseAccountsOnLaunch: CourseAccountPolicy;

  @Column({ type: 'timestamptz', nullable: true })
  deletedAt: Date | null;

  /** A platform that registered itself (dynamic registration) waits for an organization admin's approval: no launch before. */
  @Column({ type: 'boolean', default: true })
  approved: boolean;
}
