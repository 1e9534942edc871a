import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * An account of the mock backend. The mock keeps its accounts in the database, so the API and
 * worker processes see one backend, and a repeated creation (same idempotency key) finds its row.
 */
@Entity('course_account_mock_backend')
export class MockBackendAccount {
  @PrimaryColumn({ type: 'varchar', length: 150 })
  username: string;

  @Column({ type: 'uuid' })
  backendId: string;

  @Index('uq_course_account_mock_backend_key', { unique: true })
  @Column({ type: 'varchar', length: 64 })
  idempotencyKey: string;

  @Column({ type: 'varchar', length: 254, nullable: true })
  email: string | null;

  @Column({ type: 'varchar', length: 64 })
  scopeSlug: string;

  @Column({ type: 'date' })
  validTo: string;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @Column({ type: 'timestamptz', nullable: true })
  closedAt: Date | null;
}
