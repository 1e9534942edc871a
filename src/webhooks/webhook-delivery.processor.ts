import { AbandonedJob, JobContext, JobProcessor, ProcessesJob } from '../jobs/processors/job-processor';
import { WebhookDeliverer } from './webhook-deliverer';
import { DELIVER_WEBHOOK_JOB, DeliverWebhookPayload } from './webhook.jobs';

/** One attempt per run; a failed attempt worth retrying throws (the job is retried after the webhook backoff). */
@ProcessesJob(DELIVER_WEBHOOK_JOB)
export class DeliverWebhookProcessor implements JobProcessor<DeliverWebhookPayload> {
  constructor(private readonly deliverer: WebhookDeliverer) {}

  async process(ctx: JobContext<DeliverWebhookPayload>): Promise<void> {
    await this.deliverer.attempt(ctx.payload.deliveryId, ctx.jobId);
  }

  async abandoned(job: AbandonedJob<DeliverWebhookPayload>): Promise<void> {
    await this.deliverer.abandon(job.payload.deliveryId, job.error ?? job.state);
  }
}
