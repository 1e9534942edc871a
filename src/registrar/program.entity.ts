import { Check, Column, Entity, ForeignKey, Index } from 'typeorm';
import { BaseEntity } from '../database/base.entity';

export const PROGRAM_STATUSES = ['active', 'unpublished', 'retired'] as const;
export type ProgramStatus = (typeof PROGRAM_STATUSES)[number];

/**
 * A degree program an organization manages. `key` is the school's own key and is unique across the
 * deployment, because the Registrar API addresses a program by key alone (`/programs/{key}`).
 * `uuid` is the identifier other systems share for it.
 */
@Entity('programs')
@Index('ix_programs_organization', ['organizationId', 'key'])
@Check('ck_programs_status', `status IN ('active', 'unpublished', 'retired')`)
export class Program extends BaseEntity {
  @Column({ type: 'uuid' })
  @ForeignKey('organizations', { name: 'fk_programs_organization', onDelete: 'RESTRICT' })
  organizationId: string;

  @Index('uq_programs_key', { unique: true })
  @Column({ type: 'varchar', length: 255 })
  key: string;

  @Index('uq_programs_uuid', { unique: true })
  @Column({ type: 'uuid' })
  uuid: string;

  @Column({ type: 'varchar', length: 255 })
  title: string;

  /** Free text, as Registrar's `program_type`: Masters, MicroMasters, Bachelors… */
  @Column({ type: 'varchar', length: 64, default: 'Masters' })
  type: string;

  @Column({ type: 'varchar', length: 2048, nullable: true })
  url: string | null;

  @Column({ type: 'varchar', length: 16, default: 'active' })
  status: ProgramStatus;
}
