import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * private_key_jwt client authentication (RFC 7523 §2.2): a service account's public keys (a JWK Set, or
 * the URL of one) and the `jti` of every accepted client assertion until it expires (single use).
 */
export class PrivateKeyJwt1796632722647 implements MigrationInterface {
  name = 'PrivateKeyJwt1796632722647';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            CREATE TABLE "client_assertion_jtis" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "client_id" character varying(64) NOT NULL,
                "jti" character varying(255) NOT NULL,
                "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                CONSTRAINT "PK_411d6903e5919a7ce755335fa9a" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE INDEX "ix_client_assertion_jtis_expires" ON "client_assertion_jtis" ("expires_at")
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "uq_client_assertion_jtis_client_jti" ON "client_assertion_jtis" ("client_id", "jti")
        `);
    await queryRunner.query(`
            ALTER TABLE "service_accounts"
            ADD "jwks" jsonb
        `);
    await queryRunner.query(`
            ALTER TABLE "service_accounts"
            ADD "jwks_uri" character varying(2048)
        `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            ALTER TABLE "service_accounts" DROP COLUMN "jwks_uri"
        `);
    await queryRunner.query(`
            ALTER TABLE "service_accounts" DROP COLUMN "jwks"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."uq_client_assertion_jtis_client_jti"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."ix_client_assertion_jtis_expires"
        `);
    await queryRunner.query(`
            DROP TABLE "client_assertion_jtis"
        `);
  }
}
