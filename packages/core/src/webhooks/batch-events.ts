// The webhook event of a batch that reached its end: batch.completed, batch.failed, batch.expired
// or batch.cancelled, carrying the batch object. One id per batch's end, so finalizing again
// (a retried step) never sends a second event.
import type { BatchObject } from '../batches/index.js';
import { webhookEventId } from './event-ids.js';
import type { WebhookEventType } from './event-types.js';
import type { WebhookEvent } from './webhook-emitter.js';

const FINAL: Partial<Record<BatchObject['status'], WebhookEventType>> = {
  completed: 'batch.completed',
  failed: 'batch.failed',
  expired: 'batch.expired',
  cancelled: 'batch.cancelled',
};

/** The event of a finished batch for its tenant; undefined while it runs. */
export function batchEvent(tenant: string, batch: BatchObject): WebhookEvent | undefined {
  const type = FINAL[batch.status];
  if (!type) return undefined;
  return { tenant, type, object: batch, callbackUrl: batch.callback_url ?? undefined, id: webhookEventId(tenant, 'batch.final', batch.id) };
}
