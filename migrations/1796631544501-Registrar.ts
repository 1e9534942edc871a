import { MigrationInterface, QueryRunner } from 'typeorm';

export class Registrar1796631544501 implements MigrationInterface {
  name = 'Registrar1796631544501';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            CREATE TABLE "program_reports" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "program_id" uuid NOT NULL,
                "name" character varying(255) NOT NULL,
                "created_date" date NOT NULL,
                "content_type" character varying(255) NOT NULL,
                "content" bytea NOT NULL,
                "size" integer NOT NULL,
                CONSTRAINT "PK_20dec20dfd780823c5e28e96a63" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "uq_program_reports_name" ON "program_reports" ("program_id", "name")
        `);
    await queryRunner.query(`
            CREATE TABLE "program_enrollments" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "program_id" uuid NOT NULL,
                "student_key" character varying(255) NOT NULL,
                "user_id" uuid,
                "status" character varying(16) NOT NULL,
                CONSTRAINT "ck_program_enrollments_status" CHECK (
                    status IN (
                        'enrolled',
                        'pending',
                        'suspended',
                        'canceled',
                        'ended'
                    )
                ),
                CONSTRAINT "PK_d5211d93e12bc3e226035bbcad0" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE INDEX "ix_program_enrollments_user" ON "program_enrollments" ("user_id")
            WHERE user_id IS NOT NULL
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "uq_program_enrollments_student" ON "program_enrollments" ("program_id", "student_key")
        `);
    await queryRunner.query(`
            CREATE TABLE "programs" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "organization_id" uuid NOT NULL,
                "key" character varying(255) NOT NULL,
                "uuid" uuid NOT NULL,
                "title" character varying(255) NOT NULL,
                "type" character varying(64) NOT NULL DEFAULT 'Masters',
                "url" character varying(2048),
                "status" character varying(16) NOT NULL DEFAULT 'active',
                CONSTRAINT "ck_programs_status" CHECK (status IN ('active', 'unpublished', 'retired')),
                CONSTRAINT "PK_d43c664bcaafc0e8a06dfd34e05" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "uq_programs_key" ON "programs" ("key")
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "uq_programs_uuid" ON "programs" ("uuid")
        `);
    await queryRunner.query(`
            CREATE INDEX "ix_programs_organization" ON "programs" ("organization_id", "key")
        `);
    await queryRunner.query(`
            CREATE TABLE "program_courses" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "program_id" uuid NOT NULL,
                "course_id" character varying(255) NOT NULL,
                "external_course_key" character varying(255),
                "title" character varying(255) NOT NULL,
                "url" character varying(2048),
                CONSTRAINT "PK_5cda740b813b3103368cc8ba854" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "uq_program_courses_external_key" ON "program_courses" ("program_id", "external_course_key")
            WHERE external_course_key IS NOT NULL
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "uq_program_courses_course" ON "program_courses" ("program_id", "course_id")
        `);
    await queryRunner.query(`
            CREATE TABLE "course_enrollments" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "program_enrollment_id" uuid NOT NULL,
                "program_course_id" uuid NOT NULL,
                "status" character varying(16) NOT NULL,
                "course_staff" boolean NOT NULL DEFAULT false,
                CONSTRAINT "ck_course_enrollments_status" CHECK (status IN ('active', 'inactive')),
                CONSTRAINT "PK_609f6e4f0fc9a6149a35211b380" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE INDEX "ix_course_enrollments_program_enrollment" ON "course_enrollments" ("program_enrollment_id")
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "uq_course_enrollments_learner" ON "course_enrollments" ("program_course_id", "program_enrollment_id")
        `);
    await queryRunner.query(`
            ALTER TABLE "program_reports"
            ADD CONSTRAINT "fk_program_reports_program" FOREIGN KEY ("program_id") REFERENCES "programs"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    await queryRunner.query(`
            ALTER TABLE "program_enrollments"
            ADD CONSTRAINT "fk_program_enrollments_program" FOREIGN KEY ("program_id") REFERENCES "programs"("id") ON DELETE RESTRICT ON UPDATE NO ACTION
        `);
    await queryRunner.query(`
            ALTER TABLE "program_enrollments"
            ADD CONSTRAINT "fk_program_enrollments_user" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE
            SET NULL ON UPDATE NO ACTION
        `);
    await queryRunner.query(`
            ALTER TABLE "programs"
            ADD CONSTRAINT "fk_programs_organization" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE RESTRICT ON UPDATE NO ACTION
        `);
    await queryRunner.query(`
            ALTER TABLE "program_courses"
            ADD CONSTRAINT "fk_program_courses_program" FOREIGN KEY ("program_id") REFERENCES "programs"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    await queryRunner.query(`
            ALTER TABLE "course_enrollments"
            ADD CONSTRAINT "fk_course_enrollments_program_enrollment" FOREIGN KEY ("program_enrollment_id") REFERENCES "program_enrollments"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    await queryRunner.query(`
            ALTER TABLE "course_enrollments"
            ADD CONSTRAINT "fk_course_enrollments_program_course" FOREIGN KEY ("program_course_id") REFERENCES "program_courses"("id") ON DELETE RESTRICT ON UPDATE NO ACTION
        `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            ALTER TABLE "course_enrollments" DROP CONSTRAINT "fk_course_enrollments_program_course"
        `);
    await queryRunner.query(`
            ALTER TABLE "course_enrollments" DROP CONSTRAINT "fk_course_enrollments_program_enrollment"
        `);
    await queryRunner.query(`
            ALTER TABLE "program_courses" DROP CONSTRAINT "fk_program_courses_program"
        `);
    await queryRunner.query(`
            ALTER TABLE "programs" DROP CONSTRAINT "fk_programs_organization"
        `);
    await queryRunner.query(`
            ALTER TABLE "program_enrollments" DROP CONSTRAINT "fk_program_enrollments_user"
        `);
    await queryRunner.query(`
            ALTER TABLE "program_enrollments" DROP CONSTRAINT "fk_program_enrollments_program"
        `);
    await queryRunner.query(`
            ALTER TABLE "program_reports" DROP CONSTRAINT "fk_program_reports_program"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."uq_course_enrollments_learner"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."ix_course_enrollments_program_enrollment"
        `);
    await queryRunner.query(`
            DROP TABLE "course_enrollments"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."uq_program_courses_course"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."uq_program_courses_external_key"
        `);
    await queryRunner.query(`
            DROP TABLE "program_courses"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."ix_programs_organization"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."uq_programs_uuid"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."uq_programs_key"
        `);
    await queryRunner.query(`
            DROP TABLE "programs"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."uq_program_enrollments_student"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."ix_program_enrollments_user"
        `);
    await queryRunner.query(`
            DROP TABLE "program_enrollments"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."uq_program_reports_name"
        `);
    await queryRunner.query(`
            DROP TABLE "program_reports"
        `);
  }
}
