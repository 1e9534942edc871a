import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `audit_events` refused UPDATE only; DELETE and TRUNCATE now fail the same way. Archiving old events
 * is a deliberate act of the table's owner: `ALTER TABLE audit_events DISABLE TRIGGER USER` around it.
 */
export class AuditAppendOnly1796166000000 implements MigrationInterface {
  name = 'AuditAppendOnly1796166000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            CREATE TRIGGER "audit_events_no_delete" BEFORE DELETE ON "audit_events"
            FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()
        `);
    await queryRunner.query(`
            CREATE TRIGGER "audit_events_no_truncate" BEFORE TRUNCATE ON "audit_events"
            FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()
        `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TRIGGER "audit_events_no_truncate" ON "audit_events"`);
    await queryRunner.query(`DROP TRIGGER "audit_events_no_delete" ON "audit_events"`);
  }
}
