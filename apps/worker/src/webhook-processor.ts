// Runs one delivery attempt of the `webhooks` queue: sign (with the secrets in force now), send,
// record the attempt in the delivery history (a job log line), and tell BullMQ what follows:
// done, retry after the policy's delay (DeliveryRetry: the backoff strategy reads its delay), or
// dead-letter (UnrecoverableError: the job fails for good and stays in the failed set).
import { UnrecoverableError, type Job } from 'bullmq';
import {
  WebhookJobDataSchema,
  attemptRecord,
  retryDelayMs,
  type AttemptResult,
  type Clock,
  type Logger,
  type Metrics,
  type WebhookSender,
  type WebhookSettings,
  type WebhookSigner,
} from '@predictq/core';

/** A failed attempt to retry after `delayMs` (chosen by the delivery policy, Retry-After included). */
export class DeliveryRetry extends Error {
  readonly delayMs: number;

  constructor(message: string, delayMs: number) {
    super(message);
    this.name = 'DeliveryRetry';
    this.delayMs = delayMs;
  }
}

/** BullMQ's backoffStrategy for the `webhook` backoff type: the delay the attempt decided. */
export function webhookBackoff(_attemptsMade: number, _type?: string, err?: Error): number {
  return err instanceof DeliveryRetry ? err.delayMs : 0;
}

export interface WebhookProcessorDeps {
  settings: WebhookSettings;
  signer: WebhookSigner;
  sender: Pick<WebhookSender, 'send'>;
  clock: Clock;
  metrics: Metrics;
  logger: Logger;
}

const NO_SECRET: AttemptResult = {
  outcome: 'refused',
  statusCode: null,
  latencyMs: 0,
  error: 'no signing secret is configured for this destination',
  retryable: false,
};

export function createWebhookProcessor(deps: WebhookProcessorDeps) {
  const { settings, signer, sender, clock, metrics, logger } = deps;
  return async (job: Job): Promise<{ status_code: number | null; attempt: number }> => {
    const parsed = WebhookJobDataSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError('the delivery job data is malformed');
    const data = parsed.data;
    const attempt = job.attemptsMade + 1;
    const lastAttempt = attempt >= (job.opts.attempts ?? 1);
    const at = clock.now();
    const signature = signer.signature(data.tenant, data.destination, data.event_id, new Date(at), data.body);
    const result = signature
      ? await sender.send({
          url: data.destination.url,
          body: data.body,
          headers: { 'webhook-id': data.event_id, 'webhook-timestamp': String(Math.floor(at / 1000)), 'webhook-signature': signature },
        })
      : NO_SECRET;
    metrics.webhookAttempts.inc({ outcome: result.outcome });
    metrics.webhookAttemptDuration.observe({ outcome: result.outcome }, result.latencyMs / 1000);
    const retrying = result.retryable && !lastAttempt;
    const delayMs = retrying ? retryDelayMs(settings, attempt, result.retryAfterMs) : 0;
    await job.log(attemptRecord(attempt, at, result, retrying ? clock.now() + delayMs : null));
    const line = {
      delivery_id: job.id,
      event_id: data.event_id,
      event_type: data.event_type,
      tenant: data.tenant,
      destination: data.destination.kind === 'endpoint' ? data.destination.name : 'callback_url',
      attempt,
      outcome: result.outcome,
      status_code: result.statusCode,
      latency_ms: result.latencyMs,
    };
    if (result.outcome === 'ok') {
      metrics.webhookDeliveries.inc({ result: 'delivered' });
      logger.info(line, 'webhook delivered');
      return { status_code: result.statusCode, attempt };
    }
    if (retrying) {
      logger.info({ ...line, error: result.error, retry_in_ms: delayMs }, 'webhook attempt failed; retrying');
      throw new DeliveryRetry(result.error ?? result.outcome, delayMs);
    }
    const reason = result.retryable ? 'exhausted' : 'not_retryable';
    metrics.webhookDeliveries.inc({ result: 'dead_letter' });
    metrics.webhookDeadLetters.inc({ reason });
    logger.warn({ ...line, error: result.error, reason }, 'webhook dead-lettered');
    throw new UnrecoverableError(result.error ?? result.outcome);
  };
}
