import { MigrationInterface, QueryRunner } from 'typeorm';

export class Permissions1795434895442 implements MigrationInterface {
  name = 'Permissions1795434895442';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            CREATE TABLE "group_memberships" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "group_id" uuid NOT NULL,
                "principal_type" character varying(20) NOT NULL,
                "principal_id" uuid NOT NULL,
                "expires_at" TIMESTAMP WITH TIME ZONE,
                CONSTRAINT "uq_group_memberships_member" UNIQUE ("group_id", "principal_type", "principal_id"),
                CONSTRAINT "ck_group_memberships_principal_type" CHECK ("principal_type" IN ('user', 'service_account')),
                CONSTRAINT "PK_4a04ebe9f25ad41f45b2c0ca4b5" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE INDEX "ix_group_memberships_principal" ON "group_memberships" ("principal_type", "principal_id")
        `);
    await queryRunner.query(`
            CREATE TABLE "groups" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "organization_id" uuid NOT NULL,
                "name" character varying(255) NOT NULL,
                "scope_type" character varying(16) NOT NULL,
                "scope_id" uuid NOT NULL,
                "role" character varying(64) NOT NULL,
                "description" text NOT NULL DEFAULT '',
                CONSTRAINT "ck_groups_scope_type" CHECK (
                    "scope_type" IN ('organization', 'program', 'project')
                ),
                CONSTRAINT "PK_659d1483316afb28afd3a90646e" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE INDEX "ix_groups_scope" ON "groups" ("scope_type", "scope_id")
        `);
    await queryRunner.query(`
            CREATE INDEX "ix_groups_organization" ON "groups" ("organization_id")
        `);
    await queryRunner.query(`
            ALTER TABLE "group_memberships"
            ADD CONSTRAINT "FK_cad344fe877fcee0ac7e065ed05" FOREIGN KEY ("group_id") REFERENCES "groups"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    // Reviewed addition: an organization's groups (and through them their memberships) go with it.
    await queryRunner.query(
      `ALTER TABLE "groups" ADD CONSTRAINT "fk_groups_organization" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "groups" DROP CONSTRAINT "fk_groups_organization"`);
    await queryRunner.query(`
            ALTER TABLE "group_memberships" DROP CONSTRAINT "FK_cad344fe877fcee0ac7e065ed05"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."ix_groups_organization"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."ix_groups_scope"
        `);
    await queryRunner.query(`
            DROP TABLE "groups"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."ix_group_memberships_principal"
        `);
    await queryRunner.query(`
            DROP TABLE "group_memberships"
        `);
  }
}
