// Which webhook event a prediction's final outcome is. Only final outcomes are events: `ok` is
// prediction.succeeded, `fail` prediction.failed (or prediction.cancelled when the client
// cancelled it while it ran); `wait` and `retry` are not the end of anything.
import type { Outcome } from '../pipeline/outcome.js';
import { predictionObject, type PredictionObject } from '../api/prediction-object.js';
import type { PredictionJobData } from '../queue/schemas.js';
import { predictionEventId } from './event-ids.js';
import type { WebhookEventType } from './event-types.js';
import type { WebhookEvent } from './webhook-emitter.js';

/** The event of a prediction that reached its end as `prediction`. */
export function predictionEvent(data: PredictionJobData, prediction: PredictionObject): WebhookEvent {
  const type = prediction.status === 'succeeded' ? 'prediction.succeeded' : prediction.status === 'cancelled' ? 'prediction.cancelled' : 'prediction.failed';
  return {
    tenant: data.tenant,
    type,
    object: prediction,
    callbackUrl: data.callback_url,
    id: predictionEventId(data.tenant, prediction.id),
  };
}

/** The event type of a final outcome; undefined for wait and retry. */
export function outcomeEventType(outcome: Outcome): WebhookEventType | undefined {
  if (outcome.kind === 'ok') return 'prediction.succeeded';
  if (outcome.kind !== 'fail') return undefined;
  return outcome.error.code === 'cancelled' ? 'prediction.cancelled' : 'prediction.failed';
}

/** The event a worker's outcome makes, or undefined when it is not final (or the job data was unreadable). */
export function outcomeEvent(jobId: string, data: PredictionJobData | undefined, outcome: Outcome, now: number): WebhookEvent | undefined {
  if (!data) return undefined;
  if (outcome.kind === 'ok') return predictionEvent(data, predictionObject(jobId, data, 'succeeded', { result: outcome.result }));
  if (outcome.kind !== 'fail') return undefined;
  const error = { code: outcome.error.code, message: outcome.error.message };
  const status = error.code === 'cancelled' ? 'cancelled' : 'failed';
  return predictionEvent(data, predictionObject(jobId, data, status, { error, finishedOn: now }));
}
