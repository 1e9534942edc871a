import { MigrationInterface, QueryRunner } from 'typeorm';

export class CourseAccounts1795435915240 implements MigrationInterface {
  name = 'CourseAccounts1795435915240';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            CREATE TABLE "course_accounts" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "project_id" uuid NOT NULL,
                "organization_id" uuid NOT NULL,
                "user_id" uuid NOT NULL,
                "username" character varying(150),
                "email" character varying(254),
                "description" text NOT NULL DEFAULT '',
                "state" character varying(16) NOT NULL DEFAULT 'PENDING',
                "backend_id" character varying(255),
                "idempotency_key" character varying(64) NOT NULL,
                "error_message" text,
                "error_traceback" text,
                "failed_operation" character varying(16),
                "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "closed_at" TIMESTAMP WITH TIME ZONE,
                CONSTRAINT "ck_course_accounts_failed_operation" CHECK (
                    failed_operation IS NULL
                    OR failed_operation IN ('create', 'close')
                ),
                CONSTRAINT "ck_course_accounts_state" CHECK (state IN ('PENDING', 'OK', 'CLOSED', 'ERRED')),
                CONSTRAINT "PK_9bb2cfd9cd0bc027ac360c90b03" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE INDEX "ix_course_accounts_user" ON "course_accounts" ("user_id")
        `);
    await queryRunner.query(`
            CREATE INDEX "ix_course_accounts_pending" ON "course_accounts" ("updated_at")
            WHERE state = 'PENDING'
        `);
    await queryRunner.query(`
            CREATE INDEX "ix_course_accounts_expiry" ON "course_accounts" ("expires_at")
            WHERE state IN ('OK', 'ERRED')
        `);
    await queryRunner.query(`
            CREATE INDEX "ix_course_accounts_project" ON "course_accounts" ("project_id", "state")
        `);
    await queryRunner.query(`
            CREATE INDEX "ix_course_accounts_org_created" ON "course_accounts" ("organization_id", "created_at")
        `);
    // Reviewed addition: one account per (project, e-mail) that is not CLOSED, e-mails compared case-insensitively.
    await queryRunner.query(`
            CREATE UNIQUE INDEX "uq_course_accounts_project_email_live" ON "course_accounts" ("project_id", lower("email"))
            WHERE state <> 'CLOSED'
        `);
    await queryRunner.query(`
            CREATE TABLE "course_account_mock_backend" (
                "username" character varying(150) NOT NULL,
                "backend_id" uuid NOT NULL,
                "idempotency_key" character varying(64) NOT NULL,
                "email" character varying(254),
                "scope_slug" character varying(64) NOT NULL,
                "valid_to" date NOT NULL,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "closed_at" TIMESTAMP WITH TIME ZONE,
                CONSTRAINT "PK_95b56e4a6c3ff3395621366d752" PRIMARY KEY ("username")
            )
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "uq_course_account_mock_backend_key" ON "course_account_mock_backend" ("idempotency_key")
        `);
    await queryRunner.query(`
            ALTER TABLE "course_accounts"
            ADD CONSTRAINT "FK_5b304c02e6aaad7c9fd2d33f1b0" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE RESTRICT ON UPDATE NO ACTION
        `);
    await queryRunner.query(`
            ALTER TABLE "course_accounts"
            ADD CONSTRAINT "FK_f91ee7c25def4f6e2ca38234ee6" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE RESTRICT ON UPDATE NO ACTION
        `);
    await queryRunner.query(`
            ALTER TABLE "course_accounts"
            ADD CONSTRAINT "FK_e842699eb87c0740aac97d2ec97" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE NO ACTION
        `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            ALTER TABLE "course_accounts" DROP CONSTRAINT "FK_e842699eb87c0740aac97d2ec97"
        `);
    await queryRunner.query(`
            ALTER TABLE "course_accounts" DROP CONSTRAINT "FK_f91ee7c25def4f6e2ca38234ee6"
        `);
    await queryRunner.query(`
            ALTER TABLE "course_accounts" DROP CONSTRAINT "FK_5b304c02e6aaad7c9fd2d33f1b0"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."uq_course_accounts_project_email_live"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."uq_course_account_mock_backend_key"
        `);
    await queryRunner.query(`
            DROP TABLE "course_account_mock_backend"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."ix_course_accounts_org_created"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."ix_course_accounts_project"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."ix_course_accounts_expiry"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."ix_course_accounts_pending"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."ix_course_accounts_user"
        `);
    await queryRunner.query(`
            DROP TABLE "course_accounts"
        `);
  }
}
