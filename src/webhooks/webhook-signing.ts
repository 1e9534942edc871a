import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/** A Standard Webhooks signing secret: `whsec_` and 32 random bytes in base64. */
export function newSigningSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/**
 * The Standard Webhooks headers of one attempt: `webhook-id` (the event id, the same on every
 * attempt, for receivers to drop duplicates), `webhook-timestamp` (seconds) and `webhook-signature`
 * (`v1,<HMAC-SHA256>`, one per secret, space-separated: during a rotation's overlap receivers
 * holding either secret verify).
 */
export function signedHeaders(
  secrets: readonly string[],
  messageId: string,
  body: string,
  at: Date = new Date(),
): Record<string, string> {
  return {
    'content-type': 'application/json',
    'user-agent': 'Campus-Access-Webhooks/1',
    'webhook-id': messageId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': secrets.map((s) => new Webhook(s).sign(messageId, at, body)).join(' '),
  };
}
