import { Column, Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import { BaseEntity } from '../../database/base.entity';
import { Organization } from '../organizations/organization.entity';
import type { ProjectKind } from './project.types';

export type { ProjectKind };

/** A project; a `course` project has an end date and can hold course accounts and LTI contexts. */
@Entity('projects')
@Index('uq_projects_org_key_live', ['organizationId', 'key'], { unique: true, where: 'deleted_at IS NULL' })
export class Project extends BaseEntity {
  @Column({ type: 'uuid' })
  organizationId: string;

  @ManyToOne(() => Organization, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'organization_id' })
  organization?: Organization;

  @Column({ type: 'varchar', length: 64 })
  key: string;

  @Column({ type: 'varchar', length: 255 })
  name: string;

  @Column({ type: 'varchar', length: 16, default: 'default' })
  kind: ProjectKind;

  @Column({ type: 'date', nullable: true })
  startDate: string | null;

  @Column({ type: 'date', nullable: true })
  endDate: string | null;

  @Column({ type: 'timestamptz', nullable: true })
  deletedAt: Date | null;
}
