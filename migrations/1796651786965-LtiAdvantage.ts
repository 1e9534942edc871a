import { MigrationInterface, QueryRunner } from 'typeorm';

export class LtiAdvantage1796651786965 implements MigrationInterface {
  name = 'LtiAdvantage1796651786965';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            CREATE TABLE "lti_registration_links" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "organization_id" uuid NOT NULL,
                "token_hash" character(64) NOT NULL,
                "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "used_at" TIMESTAMP WITH TIME ZONE,
                "platform_id" uuid,
                "created_by" uuid,
                CONSTRAINT "PK_b8b74a77425594bc5671dff44bd" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "uq_lti_registration_links_token" ON "lti_registration_links" ("token_hash")
        `);
    await queryRunner.query(`
            CREATE TABLE "lti_deep_link_responses" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "launch_id" uuid NOT NULL,
                "items" jsonb NOT NULL,
                CONSTRAINT "PK_a2bbf73ac86d6355428053998dd" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "uq_lti_deep_link_responses_launch" ON "lti_deep_link_responses" ("launch_id")
        `);
    await queryRunner.query(`
            CREATE TABLE "lti_scores" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "platform_id" uuid NOT NULL,
                "resource_link_ref" uuid NOT NULL,
                "organization_id" uuid NOT NULL,
                "project_id" uuid NOT NULL,
                "user_id" uuid NOT NULL,
                "body" jsonb NOT NULL,
                "state" character varying(16) NOT NULL DEFAULT 'pending',
                "line_item_url" character varying(2048),
                "job_id" uuid,
                "attempts" integer NOT NULL DEFAULT '0',
                "platform_status" integer,
                "platform_answer" text,
                "delivered_at" TIMESTAMP WITH TIME ZONE,
                CONSTRAINT "ck_lti_scores_state" CHECK (state IN ('pending', 'delivered', 'failed')),
                CONSTRAINT "PK_d4548c4d886c1ad0db600e1a452" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE INDEX "ix_lti_scores_link" ON "lti_scores" ("resource_link_ref", "created_at")
        `);
    await queryRunner.query(`
            CREATE TABLE "lti_results" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "platform_id" uuid NOT NULL,
                "context_ref" uuid NOT NULL,
                "line_item_url" character varying(2048) NOT NULL,
                "lti_user_id" character varying(255) NOT NULL,
                "user_id" uuid,
                "result_score" double precision,
                "result_maximum" double precision,
                "comment" text,
                CONSTRAINT "PK_8708d012e54a66b04f247c9df67" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE INDEX "ix_lti_results_context_user" ON "lti_results" ("context_ref", "user_id")
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "uq_lti_results_member" ON "lti_results" ("line_item_url", "lti_user_id")
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_contexts"
            ADD "roster_synced_at" TIMESTAMP WITH TIME ZONE
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_platforms"
            ADD "approved" boolean NOT NULL DEFAULT true
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_registration_links"
            ADD CONSTRAINT "fk_lti_registration_links_organization" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_registration_links"
            ADD CONSTRAINT "fk_lti_registration_links_platform" FOREIGN KEY ("platform_id") REFERENCES "lti_platforms"("id") ON DELETE
            SET NULL ON UPDATE NO ACTION
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_deep_link_responses"
            ADD CONSTRAINT "fk_lti_deep_link_responses_launch" FOREIGN KEY ("launch_id") REFERENCES "lti_launches"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_scores"
            ADD CONSTRAINT "fk_lti_scores_platform" FOREIGN KEY ("platform_id") REFERENCES "lti_platforms"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_scores"
            ADD CONSTRAINT "fk_lti_scores_resource_link" FOREIGN KEY ("resource_link_ref") REFERENCES "lti_resource_links"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_scores"
            ADD CONSTRAINT "fk_lti_scores_user" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_results"
            ADD CONSTRAINT "fk_lti_results_platform" FOREIGN KEY ("platform_id") REFERENCES "lti_platforms"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_results"
            ADD CONSTRAINT "fk_lti_results_context" FOREIGN KEY ("context_ref") REFERENCES "lti_contexts"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_results"
            ADD CONSTRAINT "fk_lti_results_user" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE
            SET NULL ON UPDATE NO ACTION
        `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            ALTER TABLE "lti_results" DROP CONSTRAINT "fk_lti_results_user"
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_results" DROP CONSTRAINT "fk_lti_results_context"
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_results" DROP CONSTRAINT "fk_lti_results_platform"
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_scores" DROP CONSTRAINT "fk_lti_scores_user"
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_scores" DROP CONSTRAINT "fk_lti_scores_resource_link"
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_scores" DROP CONSTRAINT "fk_lti_scores_platform"
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_deep_link_responses" DROP CONSTRAINT "fk_lti_deep_link_responses_launch"
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_registration_links" DROP CONSTRAINT "fk_lti_registration_links_platform"
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_registration_links" DROP CONSTRAINT "fk_lti_registration_links_organization"
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_platforms" DROP COLUMN "approved"
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_contexts" DROP COLUMN "roster_synced_at"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."uq_lti_results_member"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."ix_lti_results_context_user"
        `);
    await queryRunner.query(`
            DROP TABLE "lti_results"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."ix_lti_scores_link"
        `);
    await queryRunner.query(`
            DROP TABLE "lti_scores"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."uq_lti_deep_link_responses_launch"
        `);
    await queryRunner.query(`
            DROP TABLE "lti_deep_link_responses"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."uq_lti_registration_links_token"
        `);
    await queryRunner.query(`
            DROP TABLE "lti_registration_links"
        `);
  }
}
