import { Check, Column, Entity, Index, JoinColumn, ManyToOne, Relation, Unique } from 'typeorm';
import type { PrincipalType } from '../../common/auth/principal';
import { BaseEntity } from '../../database/base.entity';
import { Group } from './group.entity';

/** A principal in a group; from `expires_at` on it grants nothing (no clean-up needed). */
@Entity('group_memberships')
@Unique('uq_group_memberships_member', ['groupId', 'principalType', 'principalId'])
@Index('ix_group_memberships_principal', ['principalType', 'principalId'])
@Check('ck_group_memberships_principal_type', `"principal_type" IN ('user', 'service_account')`)
export class GroupMembership extends BaseEntity {
  @Column({ type: 'uuid' })
  groupId: string;

  @ManyToOne(() => Group, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'group_id' })
  group?: Relation<Group>;

  @Column({ type: 'varchar', length: 20 })
  principalType: PrincipalType;

  /** users.id or service_accounts.id */
  @Column({ type: 'uuid' })
  principalId: string;

  /** Null: never expires. */
  @Column({ type: 'timestamptz', nullable: true })
  expiresAt: Date | null;
}
