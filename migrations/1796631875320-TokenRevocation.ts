import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * RFC 7009 revocation: the deny list of access tokens (by `jti`, or by the session id `sid` of a revoked
 * refresh-token family) until they expire, and a service account's cut-off for all its tokens.
 */
export class TokenRevocation1796631875320 implements MigrationInterface {
  name = 'TokenRevocation1796631875320';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            CREATE TABLE "revoked_access_tokens" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "jti" character varying(255) NOT NULL,
                "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                CONSTRAINT "PK_fdfdf6d8b236720e3d950f9e34f" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "uq_revoked_access_tokens_jti" ON "revoked_access_tokens" ("jti")
        `);
    await queryRunner.query(`
            CREATE INDEX "ix_revoked_access_tokens_expires" ON "revoked_access_tokens" ("expires_at")
        `);
    await queryRunner.query(`
            ALTER TABLE "service_accounts"
            ADD "tokens_valid_after" TIMESTAMP WITH TIME ZONE
        `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            ALTER TABLE "service_accounts" DROP COLUMN "tokens_valid_after"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."ix_revoked_access_tokens_expires"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."uq_revoked_access_tokens_jti"
        `);
    await queryRunner.query(`
            DROP TABLE "revoked_access_tokens"
        `);
  }
}
