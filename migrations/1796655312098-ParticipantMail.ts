import { MigrationInterface, QueryRunner } from 'typeorm';

export class ParticipantMail1796655312098 implements MigrationInterface {
  name = 'ParticipantMail1796655312098';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            CREATE TABLE "participant_emails" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "course_account_id" uuid NOT NULL,
                "organization_id" uuid NOT NULL,
                "kind" character varying(32) NOT NULL,
                "recipient" character varying(254) NOT NULL,
                "state" character varying(16) NOT NULL DEFAULT 'pending',
                "attempts" integer NOT NULL DEFAULT '0',
                "subject" text,
                "error" text,
                "message_id" text,
                "sent_at" TIMESTAMP WITH TIME ZONE,
                CONSTRAINT "ck_participant_emails_state" CHECK (state IN ('pending', 'sent', 'failed')),
                CONSTRAINT "PK_d0fda5a700ddb143d97968fdf12" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "uq_participant_emails_account_kind" ON "participant_emails" ("course_account_id", "kind")
        `);
    await queryRunner.query(`
            CREATE TABLE "mail_templates" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "organization_id" uuid NOT NULL,
                "kind" character varying(32) NOT NULL,
                "subject" text NOT NULL,
                "text" text NOT NULL,
                "html" text NOT NULL,
                CONSTRAINT "ck_mail_templates_kind" CHECK (kind IN ('welcome', 'expiry_notice', 'closed')),
                CONSTRAINT "PK_fa35b7af25d925a1c8406ba2ef6" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "uq_mail_templates_org_kind" ON "mail_templates" ("organization_id", "kind")
        `);
    await queryRunner.query(`
            ALTER TABLE "participant_emails"
            ADD CONSTRAINT "fk_participant_emails_course_account" FOREIGN KEY ("course_account_id") REFERENCES "course_accounts"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    await queryRunner.query(`
            ALTER TABLE "mail_templates"
            ADD CONSTRAINT "fk_mail_templates_organization" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            ALTER TABLE "mail_templates" DROP CONSTRAINT "fk_mail_templates_organization"
        `);
    await queryRunner.query(`
            ALTER TABLE "participant_emails" DROP CONSTRAINT "fk_participant_emails_course_account"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."uq_mail_templates_org_kind"
        `);
    await queryRunner.query(`
            DROP TABLE "mail_templates"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."uq_participant_emails_account_kind"
        `);
    await queryRunner.query(`
            DROP TABLE "participant_emails"
        `);
  }
}
