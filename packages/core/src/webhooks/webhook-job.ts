// The `webhooks` queue: one job per event and destination. Its data carries the exact body to
// send and where to send it, never a secret (the worker signs with secrets it reads itself).
import type { JobsOptions } from 'bullmq';
import { z } from 'zod';
import type { WebhookSettings } from '../config/index.js';
import { WEBHOOK_EVENT_TYPES } from './event-types.js';

export const WEBHOOK_QUEUE = 'webhooks';

/** BullMQ backoff type of delivery jobs; the webhook worker's backoffStrategy computes it. */
export const WEBHOOK_BACKOFF = 'webhook';

/** Attempt records kept per delivery (BullMQ job logs). */
export const MAX_ATTEMPT_RECORDS = 100;

export const WebhookDestinationSchema = z.discriminatedUnion('kind', [
  /** The request's callback_url, signed with the tenant's callback secret. */
  z.object({ kind: z.literal('callback'), url: z.string().max(2048) }).strict(),
  /** A configured endpoint, signed with its own secret. */
  z.object({ kind: z.literal('endpoint'), name: z.string(), url: z.string().max(2048) }).strict(),
]);

export type WebhookDestination = z.infer<typeof WebhookDestinationSchema>;

export const WebhookJobDataSchema = z
  .object({
    v: z.literal(1),
    tenant: z.string(),
    /** The webhook-id header: the same on every attempt and every destination of the event. */
    event_id: z.string(),
    event_type: z.enum(WEBHOOK_EVENT_TYPES),
    /** The id of the prediction or batch the event is about. */
    object_id: z.string(),
    destination: WebhookDestinationSchema,
    /** The exact bytes sent and signed. */
    body: z.string(),
    created_at: z.number(),
  })
  .strict();

export type WebhookJobData = z.infer<typeof WebhookJobDataSchema>;

export function destinationKey(destination: WebhookDestination): string {
  return destination.kind === 'endpoint' ? `endpoint:${destination.name}` : `callback:${destination.url}`;
}

export function webhookJobOptions(settings: WebhookSettings): JobsOptions {
  const keep = { age: settings.keep_s, count: settings.keep_count };
  return {
    attempts: settings.retry_delays_ms.length + 1,
    backoff: { type: WEBHOOK_BACKOFF },
    removeOnComplete: keep,
    removeOnFail: keep,
    keepLogs: MAX_ATTEMPT_RECORDS,
  };
}
