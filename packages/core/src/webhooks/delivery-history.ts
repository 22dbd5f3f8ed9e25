// The delivery history API's view of the `webhooks` queue: a delivery is its BullMQ job (state,
// attempts, timestamps) plus its attempt records (job logs), listed per tenant from the index.
// Finished deliveries are kept for webhooks.keep_s (and keep_count), then BullMQ removes them.
import type { Job, Queue } from 'bullmq';
import type { RedisConnection } from '../queue/connection.js';
import type { Config } from '../config/index.js';
import { PredictqError } from '../errors/index.js';
import { parseAttemptRecord, type AttemptRecord } from './attempt-record.js';
import { DELIVERY_ID_PREFIX } from './event-ids.js';
import { deliveryIndexKey } from './delivery-index.js';
import { MAX_ATTEMPT_RECORDS, WebhookJobDataSchema, type WebhookJobData } from './webhook-job.js';

export const DELIVERY_STATUSES = ['pending', 'delivering', 'retrying', 'delivered', 'dead_letter'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export interface DeliveryAttempt {
  attempt: number;
  at: string;
  outcome: AttemptRecord['outcome'];
  status_code: number | null;
  latency_ms: number;
  error: string | null;
}

export interface DeliveryObject {
  id: string;
  object: 'webhook_delivery';
  event_id: string;
  event_type: WebhookJobData['event_type'];
  object_id: string;
  destination: { type: 'callback_url' | 'endpoint'; endpoint: string | null; url: string };
  status: DeliveryStatus;
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  next_attempt_at: string | null;
  created_at: string;
  finished_at: string | null;
  /** Every attempt, oldest first (only when one delivery is read). */
  history?: DeliveryAttempt[];
}

const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

/** The URL without its query (which may carry a token): scheme, host, port and path. */
export function displayUrl(raw: string): string {
  try {
    const url = new URL(raw);
    return `${url.origin}${url.pathname}${url.search ? '?…' : ''}`;
  } catch {
    return '(invalid URL)';
  }
}

function statusOf(state: string, job: Job): DeliveryStatus {
  if (state === 'completed') return 'delivered';
  if (state === 'failed') return 'dead_letter';
  if (state === 'active') return 'delivering';
  return job.attemptsMade > 0 ? 'retrying' : 'pending';
}

export class DeliveryHistory {
  readonly #queue: Queue;
  readonly #keyPrefix: string;

  constructor(queue: Queue, config: Pick<Config, 'key_prefix'>) {
    this.#queue = queue;
    this.#keyPrefix = config.key_prefix;
  }

  async #owned(id: string, tenant: string): Promise<{ job: Job; data: WebhookJobData } | undefined> {
    if (!id.startsWith(DELIVERY_ID_PREFIX) || id.length > 64) return undefined;
    const job = await this.#queue.getJob(id);
    const parsed = WebhookJobDataSchema.safeParse(job?.data);
    if (!job || !parsed.success || parsed.data.tenant !== tenant) return undefined;
    return { job, data: parsed.data };
  }

  async #attempts(id: string): Promise<AttemptRecord[]> {
    const { logs } = await this.#queue.getJobLogs(id, 0, MAX_ATTEMPT_RECORDS - 1, true);
    return logs.map(parseAttemptRecord).filter((r): r is AttemptRecord => r !== undefined);
  }

  async #object(job: Job, data: WebhookJobData, withHistory: boolean): Promise<DeliveryObject> {
    const [state, attempts] = await Promise.all([job.getState(), this.#attempts(job.id!)]);
    const status = statusOf(state, job);
    const last = attempts.at(-1);
    const finished = status === 'delivered' || status === 'dead_letter';
    return {
      id: job.id!,
      object: 'webhook_delivery',
      event_id: data.event_id,
      event_type: data.event_type,
      object_id: data.object_id,
      destination: {
        type: data.destination.kind === 'endpoint' ? 'endpoint' : 'callback_url',
        endpoint: data.destination.kind === 'endpoint' ? data.destination.name : null,
        url: displayUrl(data.destination.url),
      },
      status,
      attempts: attempts.length,
      last_status_code: last?.status_code ?? null,
      last_error: last?.error ?? null,
      next_attempt_at: status === 'retrying' ? iso(last?.next_attempt_at) : null,
      created_at: iso(data.created_at)!,
      finished_at: finished ? iso(job.finishedOn ?? last?.at) : null,
      ...(withHistory
        ? {
            history: attempts.map((a) => ({
              attempt: a.attempt,
              at: iso(a.at)!,
              outcome: a.outcome,
              status_code: a.status_code,
              latency_ms: a.latency_ms,
              error: a.error,
            })),
          }
        : {}),
    };
  }

  async get(id: string, tenant: string): Promise<DeliveryObject | undefined> {
    const owned = await this.#owned(id, tenant);
    return owned && this.#object(owned.job, owned.data, true);
  }

  /** The tenant's deliveries, newest first; `startingAfter` continues a previous page. */
  async list(tenant: string, options: { limit: number; startingAfter?: string | undefined }): Promise<{ data: DeliveryObject[]; has_more: boolean }> {
    const client = (await this.#queue.client) as unknown as RedisConnection;
    const key = deliveryIndexKey(this.#keyPrefix, tenant);
    let start = 0;
    if (options.startingAfter !== undefined) {
      const rank = await client.zrevrank(key, options.startingAfter);
      if (rank === null) throw new PredictqError('invalid_request', 'starting_after: no such delivery (it may have expired)');
      start = rank + 1;
    }
    // Ids whose jobs expired are skipped; read a little more than a page to fill it.
    const ids = await client.zrevrange(key, start, start + options.limit * 2);
    const found = await Promise.all(ids.map((id) => this.#owned(id, tenant)));
    const live = found.filter((f): f is { job: Job; data: WebhookJobData } => f !== undefined);
    const page = live.slice(0, options.limit);
    const data = await Promise.all(page.map((f) => this.#object(f.job, f.data, false)));
    return { data, has_more: live.length > options.limit || ids.length > options.limit * 2 };
  }

  /**
   * Delivers again now: a finished delivery (delivered or dead-lettered) starts over with a full
   * schedule, one waiting for its next retry runs at once. Conflict while an attempt is running.
   */
  async retry(id: string, tenant: string): Promise<DeliveryObject | undefined> {
    const owned = await this.#owned(id, tenant);
    if (!owned) return undefined;
    const { job, data } = owned;
    const state = await job.getState();
    try {
      if (state === 'completed' || state === 'failed') await job.retry(state, { resetAttemptsMade: true, resetAttemptsStarted: true });
      else if (state === 'delayed') await job.promote();
      else if (state === 'active') throw new PredictqError('conflict', `delivery ${id} is being attempted now`);
    } catch (err) {
      if (err instanceof PredictqError) throw err;
      throw new PredictqError('conflict', `delivery ${id} changed state meanwhile; read it and try again`, { cause: err });
    }
    const fresh = await this.#queue.getJob(id);
    return this.#object(fresh ?? job, data, true);
  }
}
