import { MigrationInterface, QueryRunner } from 'typeorm';

export class Outbox1796652192204 implements MigrationInterface {
  name = 'Outbox1796652192204';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            CREATE TABLE "outbox_events" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "seq" BIGSERIAL NOT NULL,
                "type" character varying(64) NOT NULL,
                "organization_id" uuid,
                "subject_type" character varying(32) NOT NULL,
                "subject_id" uuid NOT NULL,
                "payload" jsonb NOT NULL DEFAULT '{}',
                "relayed_at" TIMESTAMP WITH TIME ZONE,
                CONSTRAINT "PK_6689a16c00d09b8089f6237f1d2" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE INDEX "ix_outbox_events_relayed" ON "outbox_events" ("relayed_at")
            WHERE relayed_at IS NOT NULL
        `);
    await queryRunner.query(`
            CREATE INDEX "ix_outbox_events_unrelayed" ON "outbox_events" ("seq")
            WHERE relayed_at IS NULL
        `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            DROP INDEX "public"."ix_outbox_events_unrelayed"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."ix_outbox_events_relayed"
        `);
    await queryRunner.query(`
            DROP TABLE "outbox_events"
        `);
  }
}
