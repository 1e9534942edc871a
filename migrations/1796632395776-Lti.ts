import { MigrationInterface, QueryRunner } from 'typeorm';

export class Lti1796632395776 implements MigrationInterface {
  name = 'Lti1796632395776';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            CREATE TABLE "lti_launches" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "platform_id" uuid NOT NULL,
                "deployment_id" character varying(255) NOT NULL,
                "user_id" uuid NOT NULL,
                "context_ref" uuid,
                "resource_link_ref" uuid,
                "project_id" uuid,
                "message_type" character varying(64) NOT NULL,
                "roles" text array NOT NULL,
                "project_role" character varying(64),
                "target_link_uri" character varying(2048) NOT NULL,
                "claims" jsonb NOT NULL,
                "course_account_id" uuid,
                "exchanged_at" TIMESTAMP WITH TIME ZONE,
                CONSTRAINT "PK_1e1a0173d6579af7d0745795f62" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE INDEX "ix_lti_launches_platform" ON "lti_launches" ("platform_id", "created_at")
        `);
    await queryRunner.query(`
            CREATE INDEX "ix_lti_launches_user" ON "lti_launches" ("user_id", "created_at")
        `);
    await queryRunner.query(`
            CREATE TABLE "lti_resource_links" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "platform_id" uuid NOT NULL,
                "resource_link_id" character varying(255) NOT NULL,
                "context_ref" uuid,
                "title" character varying(255) NOT NULL DEFAULT '',
                "ags_endpoint" jsonb,
                CONSTRAINT "PK_58eb2be30346e2b3b7ad92d83d5" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "uq_lti_resource_links_link" ON "lti_resource_links" ("platform_id", "resource_link_id")
        `);
    await queryRunner.query(`
            CREATE TABLE "lti_memberships" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "context_ref" uuid NOT NULL,
                "user_id" uuid NOT NULL,
                "roles" text array NOT NULL DEFAULT '{}',
                "project_role" character varying(64),
                "course_account_id" uuid,
                CONSTRAINT "PK_85439e68adb4dfa012823ffc0ba" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE INDEX "ix_lti_memberships_user" ON "lti_memberships" ("user_id")
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "uq_lti_memberships_member" ON "lti_memberships" ("context_ref", "user_id")
        `);
    await queryRunner.query(`
            CREATE TABLE "lti_identities" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "platform_id" uuid NOT NULL,
                "subject" character varying(255) NOT NULL,
                "user_id" uuid NOT NULL,
                "email_verified" boolean NOT NULL DEFAULT false,
                CONSTRAINT "PK_33579bf50c0df95fc71e49516f6" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE INDEX "ix_lti_identities_user" ON "lti_identities" ("user_id")
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "uq_lti_identities_subject" ON "lti_identities" ("platform_id", "subject")
        `);
    await queryRunner.query(`
            CREATE TABLE "lti_contexts" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "platform_id" uuid NOT NULL,
                "context_id" character varying(255) NOT NULL,
                "project_id" uuid NOT NULL,
                "title" character varying(255) NOT NULL DEFAULT '',
                "label" character varying(255) NOT NULL DEFAULT '',
                "group_ids" jsonb NOT NULL,
                CONSTRAINT "PK_7e424c25e79ee5b3a1cedf2fc25" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE INDEX "ix_lti_contexts_project" ON "lti_contexts" ("project_id")
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "uq_lti_contexts_context" ON "lti_contexts" ("platform_id", "context_id")
        `);
    await queryRunner.query(`
            CREATE TABLE "lti_platforms" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "organization_id" uuid NOT NULL,
                "name" character varying(255) NOT NULL DEFAULT '',
                "issuer" character varying(255) NOT NULL,
                "client_id" character varying(255) NOT NULL,
                "auth_login_url" character varying(2048) NOT NULL,
                "auth_token_url" character varying(2048) NOT NULL,
                "jwks_url" character varying(2048) NOT NULL,
                "deployment_ids" text array NOT NULL,
                "role_mappings" jsonb NOT NULL DEFAULT '{}',
                "verifies_email" boolean NOT NULL DEFAULT false,
                "course_accounts_on_launch" character varying(16) NOT NULL DEFAULT 'never',
                "deleted_at" TIMESTAMP WITH TIME ZONE,
                CONSTRAINT "ck_lti_platforms_course_accounts" CHECK (
                    course_accounts_on_launch IN ('never', 'always', 'when_link_asks')
                ),
                CONSTRAINT "PK_d4c8406fcb347bf7b1fc8a12441" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE INDEX "ix_lti_platforms_organization" ON "lti_platforms" ("organization_id")
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "uq_lti_platforms_issuer_client" ON "lti_platforms" ("issuer", "client_id")
            WHERE deleted_at IS NULL
        `);
    await queryRunner.query(`
            CREATE TABLE "lti_logins" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "state_hash" character varying(64) NOT NULL,
                "nonce_hash" character varying(64) NOT NULL,
                "binding_hash" character varying(64) NOT NULL,
                "platform_id" uuid NOT NULL,
                "deployment_id" character varying(255),
                "target_link_uri" character varying(2048) NOT NULL,
                "storage_target" character varying(255),
                "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "used_at" TIMESTAMP WITH TIME ZONE,
                "keep_until" TIMESTAMP WITH TIME ZONE NOT NULL,
                CONSTRAINT "PK_71de8deb582302d37f5279bde35" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE INDEX "ix_lti_logins_keep_until" ON "lti_logins" ("keep_until")
        `);
    await queryRunner.query(`
            CREATE INDEX "ix_lti_logins_nonce" ON "lti_logins" ("nonce_hash")
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "uq_lti_logins_state" ON "lti_logins" ("state_hash")
        `);
    await queryRunner.query(`
            ALTER TABLE "signing_keys"
            ADD "purpose" character varying(16) NOT NULL DEFAULT 'access_token'
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_launches"
            ADD CONSTRAINT "fk_lti_launches_platform" FOREIGN KEY ("platform_id") REFERENCES "lti_platforms"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_launches"
            ADD CONSTRAINT "fk_lti_launches_user" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_launches"
            ADD CONSTRAINT "fk_lti_launches_context" FOREIGN KEY ("context_ref") REFERENCES "lti_contexts"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_launches"
            ADD CONSTRAINT "fk_lti_launches_resource_link" FOREIGN KEY ("resource_link_ref") REFERENCES "lti_resource_links"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_resource_links"
            ADD CONSTRAINT "fk_lti_resource_links_platform" FOREIGN KEY ("platform_id") REFERENCES "lti_platforms"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_resource_links"
            ADD CONSTRAINT "fk_lti_resource_links_context" FOREIGN KEY ("context_ref") REFERENCES "lti_contexts"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_memberships"
            ADD CONSTRAINT "fk_lti_memberships_context" FOREIGN KEY ("context_ref") REFERENCES "lti_contexts"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_memberships"
            ADD CONSTRAINT "fk_lti_memberships_user" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_memberships"
            ADD CONSTRAINT "fk_lti_memberships_course_account" FOREIGN KEY ("course_account_id") REFERENCES "course_accounts"("id") ON DELETE
            SET NULL ON UPDATE NO ACTION
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_identities"
            ADD CONSTRAINT "fk_lti_identities_platform" FOREIGN KEY ("platform_id") REFERENCES "lti_platforms"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_identities"
            ADD CONSTRAINT "fk_lti_identities_user" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_contexts"
            ADD CONSTRAINT "fk_lti_contexts_platform" FOREIGN KEY ("platform_id") REFERENCES "lti_platforms"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_contexts"
            ADD CONSTRAINT "fk_lti_contexts_project" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE RESTRICT ON UPDATE NO ACTION
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_platforms"
            ADD CONSTRAINT "fk_lti_platforms_organization" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_logins"
            ADD CONSTRAINT "fk_lti_logins_platform" FOREIGN KEY ("platform_id") REFERENCES "lti_platforms"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            ALTER TABLE "lti_logins" DROP CONSTRAINT "fk_lti_logins_platform"
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_platforms" DROP CONSTRAINT "fk_lti_platforms_organization"
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_contexts" DROP CONSTRAINT "fk_lti_contexts_project"
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_contexts" DROP CONSTRAINT "fk_lti_contexts_platform"
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_identities" DROP CONSTRAINT "fk_lti_identities_user"
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_identities" DROP CONSTRAINT "fk_lti_identities_platform"
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_memberships" DROP CONSTRAINT "fk_lti_memberships_course_account"
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_memberships" DROP CONSTRAINT "fk_lti_memberships_user"
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_memberships" DROP CONSTRAINT "fk_lti_memberships_context"
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_resource_links" DROP CONSTRAINT "fk_lti_resource_links_context"
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_resource_links" DROP CONSTRAINT "fk_lti_resource_links_platform"
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_launches" DROP CONSTRAINT "fk_lti_launches_resource_link"
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_launches" DROP CONSTRAINT "fk_lti_launches_context"
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_launches" DROP CONSTRAINT "fk_lti_launches_user"
        `);
    await queryRunner.query(`
            ALTER TABLE "lti_launches" DROP CONSTRAINT "fk_lti_launches_platform"
        `);
    await queryRunner.query(`
            ALTER TABLE "signing_keys" DROP COLUMN "purpose"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."uq_lti_logins_state"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."ix_lti_logins_nonce"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."ix_lti_logins_keep_until"
        `);
    await queryRunner.query(`
            DROP TABLE "lti_logins"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."uq_lti_platforms_issuer_client"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."ix_lti_platforms_organization"
        `);
    await queryRunner.query(`
            DROP TABLE "lti_platforms"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."uq_lti_contexts_context"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."ix_lti_contexts_project"
        `);
    await queryRunner.query(`
            DROP TABLE "lti_contexts"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."uq_lti_identities_subject"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."ix_lti_identities_user"
        `);
    await queryRunner.query(`
            DROP TABLE "lti_identities"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."uq_lti_memberships_member"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."ix_lti_memberships_user"
        `);
    await queryRunner.query(`
            DROP TABLE "lti_memberships"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."uq_lti_resource_links_link"
        `);
    await queryRunner.query(`
            DROP TABLE "lti_resource_links"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."ix_lti_launches_user"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."ix_lti_launches_platform"
        `);
    await queryRunner.query(`
            DROP TABLE "lti_launches"
        `);
  }
}
