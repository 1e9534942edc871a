import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `lease` numbers the runs of a job (every claim takes the next one) and fences their writes, so
 * `attempts` can give a run back when a clean shutdown interrupts it. A Failed job always says why.
 */
export class JobsRunLease1796163000000 implements MigrationInterface {
  name = 'JobsRunLease1796163000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "jobs" ADD "lease" integer NOT NULL DEFAULT 0`);
    await queryRunner.query(`UPDATE "jobs" SET "lease" = "attempts" WHERE "attempts" > 0`);
    await queryRunner.query(
      `UPDATE "jobs" SET "error" = 'The job failed without a message' WHERE "state" = 'Failed' AND "error" IS NULL`,
    );
    await queryRunner.query(
      `ALTER TABLE "jobs" ADD CONSTRAINT "ck_jobs_failed_has_error" CHECK ("state" <> 'Failed' OR "error" IS NOT NULL)`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "jobs" DROP CONSTRAINT "ck_jobs_failed_has_error"`);
    await queryRunner.query(`ALTER TABLE "jobs" DROP COLUMN "lease"`);
  }
}
