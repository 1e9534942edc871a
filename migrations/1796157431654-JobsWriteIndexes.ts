import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Drops two indexes of `jobs` that no query needs but every job pays for three times (insert, claim,
 * outcome: state changes make every update a non-HOT one): nothing looks jobs up by organization,
 * and `name` has a handful of values (lists filter by owner first, or walk `ix_jobs_created`).
 */
export class JobsWriteIndexes1796157431654 implements MigrationInterface {
  name = 'JobsWriteIndexes1796157431654';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."ix_jobs_organization"`);
    await queryRunner.query(`DROP INDEX "public"."ix_jobs_name"`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX "ix_jobs_name" ON "jobs" ("name")`);
    await queryRunner.query(`CREATE INDEX "ix_jobs_organization" ON "jobs" ("organization_id")`);
  }
}
