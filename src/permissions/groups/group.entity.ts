import { Check, Column, Entity, ForeignKey, Index } from 'typeorm';
import { BaseEntity } from '../../database/base.entity';
import type { ScopeType } from '../subjects';

/** A set of principals holding one role at one scope (an organization, a program or a project). */
@Entity('groups')
@Index('ix_groups_organization', ['organizationId'])
@Index('ix_groups_scope', ['scopeType', 'scopeId'])
@Check('ck_groups_scope_type', `"scope_type" IN ('organization', 'program', 'project')`)
export class Group extends BaseEntity {
  /** The organization the scope belongs to (the scope itself for an organization group). */
  @Column({ type: 'uuid' })
  // Named by table, not by entity class: permissions does not import the accounts module.
  @ForeignKey('organizations', { name: 'fk_groups_organization', onDelete: 'CASCADE' })
  organizationId: string;

  @Column({ type: 'varchar', length: 255 })
  name: string;

  @Column({ type: 'varchar', length: 16 })
  scopeType: ScopeType;

  @Column({ type: 'uuid' })
  scopeId: string;

  /** A role name from roles.ts whose scope type is `scopeType`. */
  @Column({ type: 'varchar', length: 64 })
  role: string;

  @Column({ type: 'text', default: '' })
  description: string;
}
