import { MigrationInterface, QueryRunner } from 'typeorm';

export class Jobs1795435036548 implements MigrationInterface {
  name = 'Jobs1795435036548';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            CREATE TYPE "public"."job_state" AS ENUM(
                'Pending',
                'In Progress',
                'Succeeded',
                'Failed',
                'Canceled',
                'Retrying'
            )
        `);
    await queryRunner.query(`
            CREATE TABLE "jobs" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "name" character varying(100) NOT NULL,
                "owner_type" character varying(20) NOT NULL,
                "owner_id" uuid NOT NULL,
                "organization_id" uuid,
                "state" "public"."job_state" NOT NULL DEFAULT 'Pending',
                "completed_steps" integer NOT NULL DEFAULT '0',
                "total_steps" integer,
                "attempts" integer NOT NULL DEFAULT '0',
                "max_attempts" integer NOT NULL DEFAULT '3',
                "payload" jsonb NOT NULL DEFAULT '{}',
                "error" text,
                "available_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "started_at" TIMESTAMP WITH TIME ZONE,
                "finished_at" TIMESTAMP WITH TIME ZONE,
                "heartbeat_at" TIMESTAMP WITH TIME ZONE,
                "cancel_requested_at" TIMESTAMP WITH TIME ZONE,
                CONSTRAINT "PK_cf0a6c42b72fcc7f7c237def345" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE INDEX "ix_jobs_name" ON "jobs" ("name")
        `);
    await queryRunner.query(`
            CREATE INDEX "ix_jobs_organization" ON "jobs" ("organization_id")
        `);
    await queryRunner.query(`
            CREATE INDEX "ix_jobs_running" ON "jobs" ("heartbeat_at")
            WHERE state = 'In Progress'
        `);
    await queryRunner.query(`
            CREATE INDEX "ix_jobs_waiting" ON "jobs" ("available_at")
            WHERE state IN ('Pending', 'Retrying')
        `);
    await queryRunner.query(`
            CREATE INDEX "ix_jobs_created" ON "jobs" ("created_at")
        `);
    await queryRunner.query(`
            CREATE INDEX "ix_jobs_owner_created" ON "jobs" ("owner_type", "owner_id", "created_at")
        `);
    await queryRunner.query(`
            CREATE TABLE "job_artifacts" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "job_id" uuid NOT NULL,
                "name" character varying(200) NOT NULL,
                "storage" character varying(10),
                "key" character varying(500),
                "content_type" character varying(200) NOT NULL,
                "size" bigint NOT NULL DEFAULT '0',
                "text" text,
                CONSTRAINT "uq_job_artifacts_job_name" UNIQUE ("job_id", "name"),
                CONSTRAINT "ck_job_artifacts_content" CHECK (
                    "text" IS NOT NULL
                    OR (
                        "storage" IS NOT NULL
                        AND "key" IS NOT NULL
                    )
                ),
                CONSTRAINT "PK_9068cb5eef4aa5559dc3b33a82c" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            ALTER TABLE "job_artifacts"
            ADD CONSTRAINT "fk_job_artifacts_job" FOREIGN KEY ("job_id") REFERENCES "jobs"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            ALTER TABLE "job_artifacts" DROP CONSTRAINT "fk_job_artifacts_job"
        `);
    await queryRunner.query(`
            DROP TABLE "job_artifacts"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."ix_jobs_owner_created"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."ix_jobs_created"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."ix_jobs_waiting"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."ix_jobs_running"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."ix_jobs_organization"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."ix_jobs_name"
        `);
    await queryRunner.query(`
            DROP TABLE "jobs"
        `);
    await queryRunner.query(`
            DROP TYPE "public"."job_state"
        `);
  }
}
