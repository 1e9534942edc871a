import { MigrationInterface, QueryRunner } from 'typeorm';

export class Lti111796651831427 implements MigrationInterface {
  name = 'Lti111796651831427';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            CREATE TABLE "lti_users" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "consumer_id" uuid NOT NULL,
                "lti_user_id" character varying(255) NOT NULL,
                "user_id" uuid NOT NULL,
                "email_verified" boolean NOT NULL DEFAULT false,
                CONSTRAINT "PK_da6575bbbda8017b197cb674efc" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE INDEX "ix_lti_users_user" ON "lti_users" ("user_id")
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "uq_lti_users_consumer_user" ON "lti_users" ("consumer_id", "lti_user_id")
        `);
    await queryRunner.query(`
            CREATE TABLE "lti_outcome_services" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "consumer_id" uuid NOT NULL,
                "lis_outcome_service_url" character varying(2048) NOT NULL,
                CONSTRAINT "PK_7c2f2c536685e67e6df0272cb5e" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "uq_lti_outcome_services_url" ON "lti_outcome_services" ("consumer_id", "lis_outcome_service_url")
        `);
    await queryRunner.query(`
            CREATE TABLE "lti_oauth_nonces" (
                "consumer_id" uuid NOT NULL,
                "nonce" character varying(255) NOT NULL,
                "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                CONSTRAINT "PK_a165445c4d6bd95a51d07e27a9b" PRIMARY KEY ("consumer_id", "nonce")
            )
        `);
    await queryRunner.query(`
            CREATE INDEX "ix_lti_oauth_nonces_expires" ON "lti_oauth_nonces" ("expires_at")
        `);
    await queryRunner.query(`
            CREATE TABLE "lti_graded_assignments" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "organization_id" uuid NOT NULL,
                "project_id" uuid,
                "user_id" uuid NOT NULL,
                "outcome_service_id" uuid NOT NULL,
                "lis_result_sourcedid" character varying(2048) NOT NULL,
                "resource_link_id" character varying(255) NOT NULL DEFAULT '',
                "state" character varying(16) NOT NULL DEFAULT 'none',
                "operation" character varying(16),
                "score" double precision,
                "revision" integer NOT NULL DEFAULT '0',
                "attempts" integer NOT NULL DEFAULT '0',
                "last_error" text,
                "job_id" uuid,
                "requested_at" TIMESTAMP WITH TIME ZONE,
                "delivered_at" TIMESTAMP WITH TIME ZONE,
                CONSTRAINT "ck_lti_graded_assignments_score" CHECK (
                    score IS NULL
                    OR (
                        score >= 0
                        AND score <= 1
                    )
                ),
                CONSTRAINT "ck_lti_graded_assignments_operation" CHECK (
                    operation IS NULL
                    OR operation IN ('replace', 'delete')
                ),
                CONSTRAINT "ck_lti_graded_assignments_state" CHECK (
                    state IN ('none', 'pending', 'delivered', 'failed')
                ),
                CONSTRAINT "PK_23c5353964c41f113bce1decdb0" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE INDEX "ix_lti_graded_assignments_organization" ON "lti_graded_assignments" ("organization_id")
        `);
    await queryRunner.query(`
            CREATE INDEX "ix_lti_graded_assignments_project" ON "lti_graded_assignments" ("project_id")
        `);
    await queryRunner.query(`
            CREATE INDEX "ix_lti_graded_assignments_user" ON "lti_graded_assignments" ("user_id")
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "uq_lti_graded_assignments_sourcedid" ON "lti_graded_assignments" ("outcome_service_id", "lis_result_sourcedid")
        `);
    await queryRunner.query(`
            CREATE TABLE "lti_consumers" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "organization_id" uuid NOT NULL,
                "consumer_name" character varying(255) NOT NULL,
                "consumer_key" character varying(255) NOT NULL,
                "consumer_secret" text NOT NULL,
                "instance_guid" character varying(255),
                "role_mappings" jsonb NOT NULL DEFAULT '{}',
                "verifies_email" boolean NOT NULL DEFAULT false,
                "course_accounts_on_launch" character varying(16) NOT NULL DEFAULT 'never',
                "deleted_at" TIMESTAMP WITH TIME ZONE,
                CONSTRAINT "ck_lti_consumers_course_accounts" CHECK (
                    course_accounts_on_launch IN ('never', 'always', 'when_link_asks')
                ),
                CONSTRAINT "PK_f8f4bca9225670fc44e746eeccd" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE INDEX "ix_lti_consumers_organization" ON "lti_consumers" ("organization_id")
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "uq_lti_consumers_instance_guid" ON "lti_consumers" ("instance_guid")
            WHERE deleted_at IS NULL
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "uq_lti_consumers_key" ON "lti_consumers" ("consumer_key")
            WHERE deleted_at IS NULL
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "uq_lti_consumers_name" ON "lti_consumers" ("consumer_name")
            WHERE deleted_at IS NULL
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_launches"
            ADD "consumer_id" uuid
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_resource_links"
            ADD "consumer_id" uuid
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_contexts"
            ADD "consumer_id" uuid
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_launches" DROP CONSTRAINT "fk_lti_launches_platform"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."ix_lti_launches_platform"
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_launches"
            ALTER COLUMN "platform_id" DROP NOT NULL
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_resource_links" DROP CONSTRAINT "fk_lti_resource_links_platform"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."uq_lti_resource_links_link"
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_resource_links"
            ALTER COLUMN "platform_id" DROP NOT NULL
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_contexts" DROP CONSTRAINT "fk_lti_contexts_platform"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."uq_lti_contexts_context"
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_contexts"
            ALTER COLUMN "platform_id" DROP NOT NULL
        `);
    await queryRunner.query(`
            CREATE INDEX "ix_lti_launches_consumer" ON "lti_launches" ("consumer_id", "created_at")
        `);
    await queryRunner.query(`
            CREATE INDEX "ix_lti_launches_platform" ON "lti_launches" ("platform_id", "created_at")
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "uq_lti_resource_links_consumer_link" ON "lti_resource_links" ("consumer_id", "resource_link_id")
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "uq_lti_resource_links_link" ON "lti_resource_links" ("platform_id", "resource_link_id")
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "uq_lti_contexts_consumer_context" ON "lti_contexts" ("consumer_id", "context_id")
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "uq_lti_contexts_context" ON "lti_contexts" ("platform_id", "context_id")
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_launches"
            ADD CONSTRAINT "ck_lti_launches_source" CHECK (num_nonnulls(platform_id, consumer_id) = 1)
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_resource_links"
            ADD CONSTRAINT "ck_lti_resource_links_source" CHECK (num_nonnulls(platform_id, consumer_id) = 1)
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_contexts"
            ADD CONSTRAINT "ck_lti_contexts_source" CHECK (num_nonnulls(platform_id, consumer_id) = 1)
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_users"
            ADD CONSTRAINT "fk_lti_users_consumer" FOREIGN KEY ("consumer_id") REFERENCES "lti_consumers"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_users"
            ADD CONSTRAINT "fk_lti_users_user" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_outcome_services"
            ADD CONSTRAINT "fk_lti_outcome_services_consumer" FOREIGN KEY ("consumer_id") REFERENCES "lti_consumers"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_oauth_nonces"
            ADD CONSTRAINT "fk_lti_oauth_nonces_consumer" FOREIGN KEY ("consumer_id") REFERENCES "lti_consumers"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_graded_assignments"
            ADD CONSTRAINT "fk_lti_graded_assignments_organization" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_graded_assignments"
            ADD CONSTRAINT "fk_lti_graded_assignments_project" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE
            SET NULL ON UPDATE NO ACTION
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_graded_assignments"
            ADD CONSTRAINT "fk_lti_graded_assignments_user" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_graded_assignments"
            ADD CONSTRAINT "fk_lti_graded_assignments_service" FOREIGN KEY ("outcome_service_id") REFERENCES "lti_outcome_services"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_consumers"
            ADD CONSTRAINT "fk_lti_consumers_organization" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_launches"
            ADD CONSTRAINT "fk_lti_launches_platform" FOREIGN KEY ("platform_id") REFERENCES "lti_platforms"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_launches"
            ADD CONSTRAINT "fk_lti_launches_consumer" FOREIGN KEY ("consumer_id") REFERENCES "lti_consumers"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_resource_links"
            ADD CONSTRAINT "fk_lti_resource_links_platform" FOREIGN KEY ("platform_id") REFERENCES "lti_platforms"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_resource_links"
            ADD CONSTRAINT "fk_lti_resource_links_consumer" FOREIGN KEY ("consumer_id") REFERENCES "lti_consumers"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_contexts"
            ADD CONSTRAINT "fk_lti_contexts_platform" FOREIGN KEY ("platform_id") REFERENCES "lti_platforms"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_contexts"
            ADD CONSTRAINT "fk_lti_contexts_consumer" FOREIGN KEY ("consumer_id") REFERENCES "lti_consumers"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            ALTER TABLE "lti_contexts" DROP CONSTRAINT "fk_lti_contexts_consumer"
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_contexts" DROP CONSTRAINT "fk_lti_contexts_platform"
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_resource_links" DROP CONSTRAINT "fk_lti_resource_links_consumer"
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_resource_links" DROP CONSTRAINT "fk_lti_resource_links_platform"
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_launches" DROP CONSTRAINT "fk_lti_launches_consumer"
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_launches" DROP CONSTRAINT "fk_lti_launches_platform"
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_consumers" DROP CONSTRAINT "fk_lti_consumers_organization"
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_graded_assignments" DROP CONSTRAINT "fk_lti_graded_assignments_service"
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_graded_assignments" DROP CONSTRAINT "fk_lti_graded_assignments_user"
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_graded_assignments" DROP CONSTRAINT "fk_lti_graded_assignments_project"
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_graded_assignments" DROP CONSTRAINT "fk_lti_graded_assignments_organization"
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_oauth_nonces" DROP CONSTRAINT "fk_lti_oauth_nonces_consumer"
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_outcome_services" DROP CONSTRAINT "fk_lti_outcome_services_consumer"
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_users" DROP CONSTRAINT "fk_lti_users_user"
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_users" DROP CONSTRAINT "fk_lti_users_consumer"
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_contexts" DROP CONSTRAINT "ck_lti_contexts_source"
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_resource_links" DROP CONSTRAINT "ck_lti_resource_links_source"
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_launches" DROP CONSTRAINT "ck_lti_launches_source"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."uq_lti_contexts_context"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."uq_lti_contexts_consumer_context"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."uq_lti_resource_links_link"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."uq_lti_resource_links_consumer_link"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."ix_lti_launches_platform"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."ix_lti_launches_consumer"
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_contexts"
            ALTER COLUMN "platform_id"
            SET NOT NULL
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "uq_lti_contexts_context" ON "lti_contexts" ("platform_id", "context_id")
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_contexts"
            ADD CONSTRAINT "fk_lti_contexts_platform" FOREIGN KEY ("platform_id") REFERENCES "lti_platforms"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_resource_links"
            ALTER COLUMN "platform_id"
            SET NOT NULL
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "uq_lti_resource_links_link" ON "lti_resource_links" ("platform_id", "resource_link_id")
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_resource_links"
            ADD CONSTRAINT "fk_lti_resource_links_platform" FOREIGN KEY ("platform_id") REFERENCES "lti_platforms"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_launches"
            ALTER COLUMN "platform_id"
            SET NOT NULL
        `);
    await queryRunner.query(`
            CREATE INDEX "ix_lti_launches_platform" ON "lti_launches" ("created_at", "platform_id")
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_launches"
            ADD CONSTRAINT "fk_lti_launches_platform" FOREIGN KEY ("platform_id") REFERENCES "lti_platforms"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_contexts" DROP COLUMN "consumer_id"
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_resource_links" DROP COLUMN "consumer_id"
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_launches" DROP COLUMN "consumer_id"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."uq_lti_consumers_name"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."uq_lti_consumers_key"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."uq_lti_consumers_instance_guid"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."ix_lti_consumers_organization"
        `);
    await queryRunner.query(`
            DROP TABLE "lti_consumers"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."uq_lti_graded_assignments_sourcedid"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."ix_lti_graded_assignments_user"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."ix_lti_graded_assignments_project"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."ix_lti_graded_assignments_organization"
        `);
    await queryRunner.query(`
            DROP TABLE "lti_graded_assignments"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."ix_lti_oauth_nonces_expires"
        `);
    await queryRunner.query(`
            DROP TABLE "lti_oauth_nonces"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."uq_lti_outcome_services_url"
        `);
    await queryRunner.query(`
            DROP TABLE "lti_outcome_services"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."uq_lti_users_consumer_user"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."ix_lti_users_user"
        `);
    await queryRunner.query(`
            DROP TABLE "lti_users"
        `);
  }
}
