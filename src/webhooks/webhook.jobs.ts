import { defineJob } from '../jobs/processors/job-definition';

/** Webhook deliveries run on their own queue, so a slow receiver never holds up other jobs. */
export const WEBHOOKS_QUEUE = 'webhooks';

export interface DeliverWebhookPayload {
  deliveryId: string;
}

export const DELIVER_WEBHOOK_JOB = defineJob<DeliverWebhookPayload>('webhooks.deliver', { queue: WEBHOOKS_QUEUE });

/** Owner of the delivery jobs the application starts by itself (seen by staff). */
export const WEBHOOK_JOB_OWNER = { type: 'user' as const, id: '00000000-0000-0000-0000-000000000000' };

/** Runs a delivery job gets; the retry window (WEBHOOK_RETRY_WINDOW_MS) ends it first. */
export const DELIVERY_MAX_ATTEMPTS = 1000;
