import { MigrationInterface, QueryRunner } from 'typeorm';

export class Webhooks1796653542741 implements MigrationInterface {
  name = 'Webhooks1796653542741';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            CREATE TABLE "webhook_subscriptions" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "organization_id" uuid NOT NULL,
                "url" text NOT NULL,
                "event_types" text array NOT NULL,
                "description" text NOT NULL DEFAULT '',
                "active" boolean NOT NULL DEFAULT true,
                "disabled_reason" text,
                "secret_encrypted" text NOT NULL,
                "previous_secret_encrypted" text,
                "previous_secret_expires_at" TIMESTAMP WITH TIME ZONE,
                CONSTRAINT "PK_bf631ae77d39849d599817fb6f4" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE INDEX "ix_webhook_subscriptions_org" ON "webhook_subscriptions" ("organization_id", "created_at")
        `);
    await queryRunner.query(`
            CREATE TABLE "webhook_deliveries" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "subscription_id" uuid NOT NULL,
                "event_id" uuid NOT NULL,
                "event_type" character varying(64) NOT NULL,
                "subject_id" uuid NOT NULL,
                "seq" bigint NOT NULL,
                "body" text NOT NULL,
                "state" character varying(16) NOT NULL DEFAULT 'pending',
                "attempts" integer NOT NULL DEFAULT '0',
                "first_attempt_at" TIMESTAMP WITH TIME ZONE,
                "last_attempt_at" TIMESTAMP WITH TIME ZONE,
                "delivered_at" TIMESTAMP WITH TIME ZONE,
                "error" text,
                "claimed_by" uuid,
                "claimed_at" TIMESTAMP WITH TIME ZONE,
                CONSTRAINT "ck_webhook_deliveries_state" CHECK (state IN ('pending', 'delivered', 'failed')),
                CONSTRAINT "PK_535dd409947fb6d8fc6dfc0112a" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE INDEX "ix_webhook_deliveries_list" ON "webhook_deliveries" ("subscription_id", "created_at")
        `);
    await queryRunner.query(`
            CREATE INDEX "ix_webhook_deliveries_lane" ON "webhook_deliveries" ("subscription_id", "subject_id", "seq")
            WHERE state = 'pending'
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "uq_webhook_deliveries_event" ON "webhook_deliveries" ("subscription_id", "event_id")
        `);
    await queryRunner.query(`
            CREATE TABLE "webhook_attempts" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "delivery_id" uuid NOT NULL,
                "status" integer,
                "error" text,
                "response_excerpt" text NOT NULL DEFAULT '',
                "duration_ms" integer NOT NULL,
                CONSTRAINT "PK_2de7e7887ad97de459adab62638" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE INDEX "ix_webhook_attempts_delivery" ON "webhook_attempts" ("delivery_id", "created_at")
        `);
    await queryRunner.query(`
            ALTER TABLE "webhook_subscriptions"
            ADD CONSTRAINT "fk_webhook_subscriptions_organization" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    await queryRunner.query(`
            ALTER TABLE "webhook_deliveries"
            ADD CONSTRAINT "fk_webhook_deliveries_subscription" FOREIGN KEY ("subscription_id") REFERENCES "webhook_subscriptions"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    await queryRunner.query(`
            ALTER TABLE "webhook_attempts"
            ADD CONSTRAINT "fk_webhook_attempts_delivery" FOREIGN KEY ("delivery_id") REFERENCES "webhook_deliveries"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            ALTER TABLE "webhook_attempts" DROP CONSTRAINT "fk_webhook_attempts_delivery"
        `);
    await queryRunner.query(`
            ALTER TABLE "webhook_deliveries" DROP CONSTRAINT "fk_webhook_deliveries_subscription"
        `);
    await queryRunner.query(`
            ALTER TABLE "webhook_subscriptions" DROP CONSTRAINT "fk_webhook_subscriptions_organization"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."ix_webhook_attempts_delivery"
        `);
    await queryRunner.query(`
            DROP TABLE "webhook_attempts"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."uq_webhook_deliveries_event"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."ix_webhook_deliveries_lane"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."ix_webhook_deliveries_list"
        `);
    await queryRunner.query(`
            DROP TABLE "webhook_deliveries"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."ix_webhook_subscriptions_org"
        `);
    await queryRunner.query(`
            DROP TABLE "webhook_subscriptions"
        `);
  }
}
