import { MigrationInterface, QueryRunner } from 'typeorm';

export class Accounts1795434466856 implements MigrationInterface {
  name = 'Accounts1795434466856';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            CREATE TABLE "service_accounts" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "organization_id" uuid NOT NULL,
                "client_id" character varying(64) NOT NULL,
                "name" character varying(255) NOT NULL,
                "description" text NOT NULL DEFAULT '',
                "allowed_scopes" text array NOT NULL DEFAULT '{}',
                "is_active" boolean NOT NULL DEFAULT true,
                CONSTRAINT "PK_e2fb216fdc1db94c5e4da7d88fa" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE INDEX "ix_service_accounts_organization" ON "service_accounts" ("organization_id")
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "uq_service_accounts_client_id" ON "service_accounts" ("client_id")
        `);
    await queryRunner.query(`
            CREATE TABLE "service_account_secrets" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "service_account_id" uuid NOT NULL,
                "secret_hash" character(64) NOT NULL,
                "prefix" character varying(16) NOT NULL,
                "expires_at" TIMESTAMP WITH TIME ZONE,
                "revoked_at" TIMESTAMP WITH TIME ZONE,
                CONSTRAINT "PK_a0422b769a8cdd29f90d6ebbeae" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE INDEX "ix_service_account_secrets_account" ON "service_account_secrets" ("service_account_id")
        `);
    await queryRunner.query(`
            CREATE TABLE "organizations" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "key" character varying(64) NOT NULL,
                "name" character varying(255) NOT NULL,
                CONSTRAINT "PK_6b031fcd0863e3f6b44230163f9" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "uq_organizations_key" ON "organizations" ("key")
        `);
    await queryRunner.query(`
            CREATE TABLE "projects" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "organization_id" uuid NOT NULL,
                "key" character varying(64) NOT NULL,
                "name" character varying(255) NOT NULL,
                "kind" character varying(16) NOT NULL DEFAULT 'default',
                "start_date" date,
                "end_date" date,
                "deleted_at" TIMESTAMP WITH TIME ZONE,
                CONSTRAINT "PK_6271df0a7aed1d6c0691ce6ac50" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "uq_projects_org_key_live" ON "projects" ("organization_id", "key")
            WHERE deleted_at IS NULL
        `);
    await queryRunner.query(`
            CREATE TABLE "users" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "username" character varying(150) NOT NULL,
                "email" character varying(254),
                "first_name" character varying(150) NOT NULL DEFAULT '',
                "last_name" character varying(150) NOT NULL DEFAULT '',
                "is_active" boolean NOT NULL DEFAULT true,
                "is_staff" boolean NOT NULL DEFAULT false,
                "is_support" boolean NOT NULL DEFAULT false,
                "password_hash" character varying(255),
                "kind" character varying(20) NOT NULL DEFAULT 'person',
                "organization_id" uuid,
                "source" character varying(255) NOT NULL DEFAULT 'local',
                "last_login_at" TIMESTAMP WITH TIME ZONE,
                CONSTRAINT "PK_a3ffb1c0c8416b9fc6f907b7433" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE INDEX "ix_users_email" ON "users" ("email")
        `);
    await queryRunner.query(`
            CREATE INDEX "ix_users_organization" ON "users" ("organization_id")
        `);
    await queryRunner.query(`
            CREATE TABLE "signing_keys" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "kid" character varying(64) NOT NULL,
                "alg" character varying(10) NOT NULL,
                "public_jwk" jsonb NOT NULL,
                "private_key_encrypted" text NOT NULL,
                "status" character varying(10) NOT NULL,
                "retire_after" TIMESTAMP WITH TIME ZONE,
                CONSTRAINT "PK_ab7d78cf6e61dc3904133b4cd55" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "uq_signing_keys_kid" ON "signing_keys" ("kid")
        `);
    await queryRunner.query(`
            CREATE TABLE "external_identities" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "issuer" character varying(512) NOT NULL,
                "subject" character varying(255) NOT NULL,
                "user_id" uuid NOT NULL,
                CONSTRAINT "PK_85d174f9b82602686b4b3846fc4" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE INDEX "ix_external_identities_user" ON "external_identities" ("user_id")
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "uq_external_identities_issuer_sub" ON "external_identities" ("issuer", "subject")
        `);
    await queryRunner.query(`
            CREATE TABLE "refresh_tokens" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "token_hash" character(64) NOT NULL,
                "family_id" uuid NOT NULL,
                "user_id" uuid NOT NULL,
                "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "rotated_at" TIMESTAMP WITH TIME ZONE,
                "revoked_at" TIMESTAMP WITH TIME ZONE,
                CONSTRAINT "PK_7d8bee0204106019488c4c50ffa" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "uq_refresh_tokens_hash" ON "refresh_tokens" ("token_hash")
        `);
    await queryRunner.query(`
            CREATE INDEX "ix_refresh_tokens_family" ON "refresh_tokens" ("family_id")
        `);
    await queryRunner.query(`
            CREATE INDEX "ix_refresh_tokens_user" ON "refresh_tokens" ("user_id")
        `);
    await queryRunner.query(`
            CREATE TABLE "audit_events" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "occurred_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "actor_type" character varying(20) NOT NULL,
                "actor_id" uuid,
                "action" character varying(64) NOT NULL,
                "subject_type" character varying(64),
                "subject_id" character varying(64),
                "organization_id" uuid,
                "data" jsonb NOT NULL DEFAULT '{}',
                "ip" character varying(64),
                CONSTRAINT "PK_910f64d901a5c3e9878f0d4a407" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE INDEX "ix_audit_events_time" ON "audit_events" ("occurred_at")
        `);
    await queryRunner.query(`
            CREATE INDEX "ix_audit_events_action" ON "audit_events" ("action")
        `);
    await queryRunner.query(`
            CREATE INDEX "ix_audit_events_org_time" ON "audit_events" ("organization_id", "occurred_at")
        `);
    await queryRunner.query(`
            CREATE TABLE "activation_records" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "organization_id" uuid NOT NULL,
                "user_id" uuid NOT NULL,
                "crsid" character varying(150) NOT NULL,
                "last_name" character varying(150) NOT NULL,
                "date_of_birth" date NOT NULL,
                "code_hash" character(64) NOT NULL,
                "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "used_at" TIMESTAMP WITH TIME ZONE,
                "failed_attempts" integer NOT NULL DEFAULT '0',
                "locked_until" TIMESTAMP WITH TIME ZONE,
                CONSTRAINT "PK_f604e57626148a8a7a7bbb9a456" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE INDEX "ix_activation_records_organization" ON "activation_records" ("organization_id")
        `);
    await queryRunner.query(`
            CREATE INDEX "ix_activation_records_user" ON "activation_records" ("user_id")
        `);
    await queryRunner.query(`
            CREATE INDEX "ix_activation_records_crsid" ON "activation_records" ("crsid")
        `);
    await queryRunner.query(`
            CREATE INDEX "ix_activation_records_last_name" ON "activation_records" ("last_name")
        `);
    await queryRunner.query(`
            ALTER TABLE "projects"
            ADD CONSTRAINT "FK_585c8ce06628c70b70100bfb842" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE RESTRICT ON UPDATE NO ACTION
        `);
    // Reviewed additions: case-insensitive usernames, foreign keys, append-only audit log.
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_users_username_ci" ON "users" (lower("username"))`);
    await queryRunner.query(
      `ALTER TABLE "users" ADD CONSTRAINT "fk_users_organization" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE SET NULL`,
    );
    await queryRunner.query(
      `ALTER TABLE "service_accounts" ADD CONSTRAINT "fk_service_accounts_organization" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE RESTRICT`,
    );
    await queryRunner.query(
      `ALTER TABLE "service_account_secrets" ADD CONSTRAINT "fk_service_account_secrets_account" FOREIGN KEY ("service_account_id") REFERENCES "service_accounts"("id") ON DELETE CASCADE`,
    );
    await queryRunner.query(
      `ALTER TABLE "external_identities" ADD CONSTRAINT "fk_external_identities_user" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE`,
    );
    await queryRunner.query(
      `ALTER TABLE "refresh_tokens" ADD CONSTRAINT "fk_refresh_tokens_user" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE`,
    );
    await queryRunner.query(
      `ALTER TABLE "activation_records" ADD CONSTRAINT "fk_activation_records_user" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE`,
    );
    await queryRunner.query(
      `ALTER TABLE "activation_records" ADD CONSTRAINT "fk_activation_records_organization" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE`,
    );
    await queryRunner.query(`
            CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'audit_events is append-only'; END $$
        `);
    await queryRunner.query(`
            CREATE TRIGGER "audit_events_no_update" BEFORE UPDATE ON "audit_events"
            FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()
        `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TRIGGER "audit_events_no_update" ON "audit_events"`);
    await queryRunner.query(`DROP FUNCTION audit_events_append_only()`);
    await queryRunner.query(`ALTER TABLE "activation_records" DROP CONSTRAINT "fk_activation_records_organization"`);
    await queryRunner.query(`ALTER TABLE "activation_records" DROP CONSTRAINT "fk_activation_records_user"`);
    await queryRunner.query(`ALTER TABLE "refresh_tokens" DROP CONSTRAINT "fk_refresh_tokens_user"`);
    await queryRunner.query(`ALTER TABLE "external_identities" DROP CONSTRAINT "fk_external_identities_user"`);
    await queryRunner.query(
      `ALTER TABLE "service_account_secrets" DROP CONSTRAINT "fk_service_account_secrets_account"`,
    );
    await queryRunner.query(`ALTER TABLE "service_accounts" DROP CONSTRAINT "fk_service_accounts_organization"`);
    await queryRunner.query(`ALTER TABLE "users" DROP CONSTRAINT "fk_users_organization"`);
    await queryRunner.query(`DROP INDEX "uq_users_username_ci"`);
    await queryRunner.query(`
            ALTER TABLE "projects" DROP CONSTRAINT "FK_585c8ce06628c70b70100bfb842"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."ix_activation_records_last_name"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."ix_activation_records_crsid"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."ix_activation_records_user"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."ix_activation_records_organization"
        `);
    await queryRunner.query(`
            DROP TABLE "activation_records"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."ix_audit_events_org_time"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."ix_audit_events_action"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."ix_audit_events_time"
        `);
    await queryRunner.query(`
            DROP TABLE "audit_events"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."ix_refresh_tokens_user"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."ix_refresh_tokens_family"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."uq_refresh_tokens_hash"
        `);
    await queryRunner.query(`
            DROP TABLE "refresh_tokens"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."uq_external_identities_issuer_sub"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."ix_external_identities_user"
        `);
    await queryRunner.query(`
            DROP TABLE "external_identities"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."uq_signing_keys_kid"
        `);
    await queryRunner.query(`
            DROP TABLE "signing_keys"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."ix_users_organization"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."ix_users_email"
        `);
    await queryRunner.query(`
            DROP TABLE "users"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."uq_projects_org_key_live"
        `);
    await queryRunner.query(`
            DROP TABLE "projects"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."uq_organizations_key"
        `);
    await queryRunner.query(`
            DROP TABLE "organizations"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."ix_service_account_secrets_account"
        `);
    await queryRunner.query(`
            DROP TABLE "service_account_secrets"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."uq_service_accounts_client_id"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."ix_service_accounts_organization"
        `);
    await queryRunner.query(`
            DROP TABLE "service_accounts"
        `);
  }
}
