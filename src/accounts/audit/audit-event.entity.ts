import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** Append-only record of security-relevant actions. */
@Entity('audit_events')
@Index('ix_audit_events_org_time', ['organizationId', 'occurredAt'])
export class AuditEvent {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Index('ix_audit_events_time')
  @CreateDateColumn({ type: 'timestamptz' })
  occurredAt: Date;

  /** user | service_account | anonymous | system */
  @Column({ type: 'varchar', length: 20 })
  actorType: string;

  @Column({ type: 'uuid', nullable: true })
  actorId: string | null;

  @Index('ix_audit_events_action')
  @Column({ type: 'varchar', length: 64 })
  action: string;

  @Column({ type: 'varchar', length: 64, nullable: true })
  subjectType: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  subjectId: string | null;

  @Column({ type: 'uuid', nullable: true })
  organizationId: string | null;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  data: Record<string, unknown>;

  @Column({ type: 'varchar', length: 64, nullable: true })
  ip: string | null;
}
