import { Column, Entity, ForeignKey, Index } from 'typeorm';
import { BaseEntity } from '../../database/base.entity';

/** A user in an LMS course as its latest launch (or roster) said: LIS roles, project role, course account. */
@Entity('lti_memberships')
@Index('uq_lti_memberships_member', ['contextRef', 'userId'], { unique: true })
@Index('ix_lti_memberships_user', ['userId'])
export class LtiMembership extends BaseEntity {
  @Column({ type: 'uuid' })
  @ForeignKey('lti_contexts', { name: 'fk_lti_memberships_context', onDelete: 'CASCADE' })
  contextRef: string;

  @Column({ type: 'uuid' })
  @ForeignKey('users', { name: 'fk_lti_memberships_user', onDelete: 'CASCADE' })
  userId: string;

  @Column({ type: 'text', array: true, default: '{}' })
  roles: string[];

  /** The project role the roles map to; null when they grant none. */
  @Column({ type: 'varchar', length: 64, nullable: true })
  projectRole: string | null;

  /** The course account a launch provisioned for the user in the course project. */
  @Column({ type: 'uuid', nullable: true })
  @ForeignKey('course_accounts', { name: 'fk_lti_memberships_course_account', onDelete: 'SET NULL' })
  courseAccountId: string | null;
}
