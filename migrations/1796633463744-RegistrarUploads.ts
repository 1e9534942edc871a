import { MigrationInterface, QueryRunner } from 'typeorm';

export class RegistrarUploads1796633463744 implements MigrationInterface {
  name = 'RegistrarUploads1796633463744';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            CREATE TABLE "program_uploads" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "program_id" uuid NOT NULL,
                "job_id" uuid NOT NULL,
                "kind" character varying(16) NOT NULL,
                "done" boolean NOT NULL DEFAULT false,
                CONSTRAINT "ck_program_uploads_kind" CHECK (kind IN ('program', 'course')),
                CONSTRAINT "PK_f0ed079585cc1d60c2d50d7d9a7" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE INDEX "ix_program_uploads_open" ON "program_uploads" ("program_id")
            WHERE NOT done
        `);
    await queryRunner.query(`
            CREATE TABLE "program_upload_rows" (
                "upload_id" uuid NOT NULL,
                "line" integer NOT NULL,
                "student_key" text NOT NULL,
                "course_key" text,
                "status" text NOT NULL,
                "duplicated" boolean NOT NULL DEFAULT false,
                "outcome" character varying(32),
                CONSTRAINT "PK_91b075069af10070809bfe36d06" PRIMARY KEY ("upload_id", "line")
            )
        `);
    await queryRunner.query(`
            ALTER TABLE "program_uploads"
            ADD CONSTRAINT "fk_program_uploads_program" FOREIGN KEY ("program_id") REFERENCES "programs"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    await queryRunner.query(`
            ALTER TABLE "program_upload_rows"
            ADD CONSTRAINT "fk_program_upload_rows_upload" FOREIGN KEY ("upload_id") REFERENCES "program_uploads"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            ALTER TABLE "program_upload_rows" DROP CONSTRAINT "fk_program_upload_rows_upload"
        `);
    await queryRunner.query(`
            ALTER TABLE "program_uploads" DROP CONSTRAINT "fk_program_uploads_program"
        `);
    await queryRunner.query(`
            DROP TABLE "program_upload_rows"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."ix_program_uploads_open"
        `);
    await queryRunner.query(`
            DROP TABLE "program_uploads"
        `);
  }
}
