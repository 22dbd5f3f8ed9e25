// The events predictq sends, and the payload every one of them has (Standard Webhooks'
// recommended shape: type, timestamp, data).

export const WEBHOOK_EVENT_TYPES = [
  'prediction.succeeded',
  'prediction.failed',
  'prediction.cancelled',
  'batch.completed',
  'batch.failed',
  'batch.expired',
  'batch.cancelled',
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** What a receiver gets as the body: `data` is the object as the API returns it. */
export interface WebhookPayload<T = unknown> {
  type: WebhookEventType;
  /** When the event happened (ISO 8601). */
  timestamp: string;
  data: T;
}

/** The exact bytes sent (and signed): serialised once, when the event is created. */
export function webhookBody(type: WebhookEventType, object: unknown, at: number): string {
  const payload: WebhookPayload = { type, timestamp: new Date(at).toISOString(), data: object };
  return JSON.stringify(payload);
}
