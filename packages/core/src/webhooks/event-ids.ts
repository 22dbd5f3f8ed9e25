// Deterministic ids: an event created twice (a stalled job run again, a producer and a worker
// both seeing a cancellation) gets the same id, so its deliveries are the same BullMQ jobs and
// BullMQ's job-id deduplication sends it once.
import { createHash } from 'node:crypto';

export const EVENT_ID_PREFIX = 'evt_';
export const DELIVERY_ID_PREFIX = 'whd_';

function digest(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32);
}

/** The id of the event about `objectId` named by `key` (by default its type). */
export function webhookEventId(tenant: string, key: string, objectId: string): string {
  return EVENT_ID_PREFIX + digest(tenant, key, objectId);
}

/**
 * A prediction ends once: its one final event (succeeded, failed or cancelled) shares one id,
 * so a run that ends differently after a stall can never send a second, contradicting event.
 */
export function predictionEventId(tenant: string, predictionId: string): string {
  return webhookEventId(tenant, 'prediction.final', predictionId);
}

/** One delivery per event and destination (a BullMQ job id: no ':' allowed). */
export function deliveryId(eventId: string, destinationKey: string): string {
  return DELIVERY_ID_PREFIX + digest(eventId, destinationKey);
}
