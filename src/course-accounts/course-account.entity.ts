import { Check, Column, Entity, ForeignKey, Index } from 'typeorm';
import { BaseEntity } from '../database/base.entity';

export const COURSE_ACCOUNT_STATES = ['PENDING', 'OK', 'CLOSED', 'ERRED'] as const;
export type CourseAccountState = (typeof COURSE_ACCOUNT_STATES)[number];

/** The upstream step an ERRED account failed at; a retry runs it again. */
export type CourseAccountOperation = 'create' | 'close';

/**
 * A temporary account on the external system for a course project. `state` changes only through
 * CourseAccountStateMachine. At most one account per (project, e-mail) is not CLOSED
 * (`uq_course_accounts_project_email_live`, a partial functional index written in the migration).
 *
 * The project, organization and user are plain uuid columns: their foreign keys name the accounts
 * module's tables, not its entities, and the project is read through ProjectsService.
 */
@Entity('course_accounts')
@Index('uq_course_accounts_project_email_live', { synchronize: false })
@Index('ix_course_accounts_org_created', ['organizationId', 'createdAt'])
@Index('ix_course_accounts_project', ['projectId', 'state'])
@Index('ix_course_accounts_expiry', ['expiresAt'], { where: `state IN ('OK', 'ERRED')` })
@Index('ix_course_accounts_pending', ['updatedAt'], { where: `state = 'PENDING'` })
@Check('ck_course_accounts_state', `state IN ('PENDING', 'OK', 'CLOSED', 'ERRED')`)
@Check('ck_course_accounts_failed_operation', `failed_operation IS NULL OR failed_operation IN ('create', 'close')`)
export class CourseAccount extends BaseEntity {
  @Column({ type: 'uuid' })
  @ForeignKey('projects', { name: 'FK_5b304c02e6aaad7c9fd2d33f1b0', onDelete: 'RESTRICT' })
  projectId: string;

  @Column({ type: 'uuid' })
  @ForeignKey('organizations', { name: 'FK_f91ee7c25def4f6e2ca38234ee6', onDelete: 'RESTRICT' })
  organizationId: string;

  /** The user of kind `course_account` created with the account; closing deactivates it. */
  @Index('ix_course_accounts_user')
  @Column({ type: 'uuid' })
  @ForeignKey('users', { name: 'FK_e842699eb87c0740aac97d2ec97', onDelete: 'RESTRICT' })
  userId: string;

  /** The username the backend gave the account; null until it is created there. */
  @Column({ type: 'varchar', length: 150, nullable: true })
  username: string | null;

  @Column({ type: 'varchar', length: 254, nullable: true })
  email: string | null;

  @Column({ type: 'text', default: '' })
  description: string;

  @Column({ type: 'varchar', length: 16, default: 'PENDING' })
  state: CourseAccountState;

  @Column({ type: 'varchar', length: 255, nullable: true })
  backendId: string | null;

  /**
   * Sent with every creation request for this account, so a creation repeated after a crash or a
   * timeout finds the account made the first time instead of making a second one. Replaced only when
   * the account is known to be gone upstream and must be created anew.
   */
  @Column({ type: 'varchar', length: 64 })
  idempotencyKey: string;

  @Column({ type: 'text', nullable: true })
  errorMessage: string | null;

  @Column({ type: 'text', nullable: true })
  errorTraceback: string | null;

  @Column({ type: 'varchar', length: 16, nullable: true })
  failedOperation: CourseAccountOperation | null;

  /** Default: the end of the project's end date; never later. */
  @Column({ type: 'timestamptz' })
  expiresAt: Date;

  @Column({ type: 'timestamptz', nullable: true })
  closedAt: Date | null;
}
