import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AccountsModule } from '../accounts/accounts.module';
import { EventsModule } from '../events/events.module';
import { JobsModule } from '../jobs/jobs.module';
import { MailModule } from '../mail/mail.module';
import { DeclaresJobQueues } from '../jobs/queue/job-queues';
import { PermissionsModule } from '../permissions/permissions.module';
import { WebhookAttempt } from './webhook-attempt.entity';
import { WebhookDeliverer } from './webhook-deliverer';
import { WebhookDelivery } from './webhook-delivery.entity';
import { DeliverWebhookProcessor } from './webhook-delivery.processor';
import { WebhookSecrets } from './webhook-secrets';
import { WebhookSubscription } from './webhook-subscription.entity';
import { WEBHOOKS_QUEUE } from './webhook.jobs';
import { WebhooksController } from './webhooks.controller';
import { WebhooksRepository } from './webhooks.repository';
import { WebhooksRetention } from './webhooks.retention';
import { WebhooksService } from './webhooks.service';
import { WebhookSubjects } from './webhooks.subjects';

/** Signed webhooks for site agents: subscriptions, durable deliveries of outbox events. See README.md here. */
@DeclaresJobQueues(WEBHOOKS_QUEUE)
@Module({
  imports: [
    TypeOrmModule.forFeature([WebhookSubscription, WebhookDelivery, WebhookAttempt]),
    AccountsModule,
    PermissionsModule,
    EventsModule,
    JobsModule,
    MailModule,
  ],
  controllers: [WebhooksController],
  providers: [
    WebhookSubjects,
    WebhooksRepository,
    WebhookSecrets,
    WebhookDeliverer,
    WebhooksService,
    DeliverWebhookProcessor,
    WebhooksRetention,
  ],
  exports: [WebhooksService],
})
export class WebhooksModule {}
