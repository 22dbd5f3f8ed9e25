// The notify step between the pipeline and the job processor: a final outcome (ok, fail) becomes
// its webhook event BEFORE the job is reported finished, so a prediction never reads as finished
// without its event existing. If the worker dies in between, the job runs again and emits the
// same event id, which BullMQ's job-id deduplication delivers once.
import type { Job } from 'bullmq';
import type { OutcomeStep } from './job-processor.js';
import {
  JOB_NAMES,
  PredictionJobDataSchema,
  WaitError,
  outcomeEvent,
  outcomeEventType,
  type Clock,
  type Logger,
  type Outcome,
  type WebhookEmitter,
} from '@predictq/core';

/** How soon a job whose event could not be stored tries again (it waits; no attempt is spent). */
const NOTIFY_RETRY_MS = 1000;

export function createOutcomeNotifier(deps: { emitter: Pick<WebhookEmitter, 'emit' | 'destinations'>; clock: Clock; logger: Logger }): OutcomeStep {
  return async <R>(job: Job, given: Outcome<R>): Promise<Outcome<R>> => {
    // Prediction events only: a chat completion is answered to the client that waits for it.
    if (job.name !== JOB_NAMES.predict) return given;
    const outcome = given as unknown as Outcome;
    const type = outcomeEventType(outcome);
    const raw = job.data as { tenant?: unknown; callback_url?: unknown };
    if (type === undefined || typeof raw.tenant !== 'string') return given;
    // Most predictions have nowhere to go: their job data is not decoded again.
    const callback = typeof raw.callback_url === 'string' ? raw.callback_url : undefined;
    if (deps.emitter.destinations(raw.tenant, type, callback).length === 0) return given;
    const parsed = PredictionJobDataSchema.safeParse(job.data);
    const event = outcomeEvent(job.id ?? 'unknown', parsed.success ? parsed.data : undefined, outcome, deps.clock.now());
    if (!event) return given;
    try {
      await deps.emitter.emit(event);
      return given;
    } catch (err) {
      deps.logger.warn({ err: { message: (err as Error).message }, job_id: job.id }, 'webhook event could not be stored; the prediction waits and runs again');
      const error = new WaitError('service_unavailable', 'the webhook event could not be stored', NOTIFY_RETRY_MS, 'redis');
      return { kind: 'wait', until: deps.clock.now() + NOTIFY_RETRY_MS, reason: 'redis', error };
    }
  };
}
