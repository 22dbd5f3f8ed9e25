// The one way any process creates a webhook event: `emit` picks the destinations (the request's
// callback_url and the tenant's endpoints subscribed to the type), and adds one delivery job per
// destination to the `webhooks` queue, plus an entry in the tenant's delivery history. Event and
// delivery ids are deterministic, so emitting the same event again changes nothing.
import { Queue, type Telemetry } from 'bullmq';
import type { RedisConnection } from '../queue/connection.js';
import { systemClock, type Clock } from '../clock/index.js';
import type { Config } from '../config/index.js';
import { queuePrefix } from '../queue/names.js';
import type { Metrics } from '../telemetry/index.js';
import { deliveryId, webhookEventId } from './event-ids.js';
import { webhookBody, type WebhookEventType } from './event-types.js';
import { deliveryIndexKey } from './delivery-index.js';
import { WEBHOOK_QUEUE, destinationKey, webhookJobOptions, type WebhookDestination, type WebhookJobData } from './webhook-job.js';

export interface WebhookEvent {
  tenant: string;
  type: WebhookEventType;
  /** The object as the API returns it (a prediction, a batch); its `id` names the event. */
  object: { id: string };
  /** The request's callback_url, if it had one (checked by CallbackGuard when it was submitted). */
  callbackUrl?: string | undefined;
  /** The event id (webhook-id); default: derived from tenant, type and object id. */
  id?: string | undefined;
  /** When it happened (ms since epoch); default: now. */
  at?: number | undefined;
}

export interface EmittedEvent {
  id: string;
  /** One delivery id per destination (none when nobody listens for it). */
  deliveries: string[];
}

export interface WebhookEmitterDeps {
  config: Pick<Config, 'key_prefix' | 'webhooks'>;
  /**
   * The connection the delivery jobs are added on. A worker passes its BullMQ connection (an
   * outage makes emit wait, never lose the event); a producer its fail-fast one (emit throws).
   */
  connection: RedisConnection;
  clock?: Clock;
  metrics?: Pick<Metrics, 'webhookEvents'>;
  telemetry?: Telemetry | undefined;
}

export class WebhookEmitter {
  readonly queue: Queue<WebhookJobData>;
  readonly #deps: WebhookEmitterDeps;
  readonly #clock: Clock;

  constructor(deps: WebhookEmitterDeps) {
    this.#deps = deps;
    this.#clock = deps.clock ?? systemClock;
    this.queue = new Queue<WebhookJobData>(WEBHOOK_QUEUE, {
      connection: deps.connection,
      prefix: queuePrefix(deps.config.key_prefix),
      defaultJobOptions: webhookJobOptions(deps.config.webhooks),
      ...(deps.telemetry ? { telemetry: deps.telemetry } : {}),
    });
    this.queue.on('error', () => {});
  }

  /** Where an event of this type for this tenant goes. */
  destinations(tenant: string, type: WebhookEventType, callbackUrl?: string): WebhookDestination[] {
    const found: WebhookDestination[] = [];
    if (callbackUrl !== undefined) found.push({ kind: 'callback', url: callbackUrl });
    for (const endpoint of this.#deps.config.webhooks.tenants[tenant]?.endpoints ?? []) {
      if (endpoint.events.includes('*') || endpoint.events.includes(type)) found.push({ kind: 'endpoint', name: endpoint.name, url: endpoint.url });
    }
    return found;
  }

  async emit(event: WebhookEvent): Promise<EmittedEvent> {
    const { tenant, type, object } = event;
    const id = event.id ?? webhookEventId(tenant, type, object.id);
    const destinations = this.destinations(tenant, type, event.callbackUrl);
    if (destinations.length === 0) return { id, deliveries: [] };
    const now = this.#clock.now();
    const body = webhookBody(type, object, event.at ?? now);
    const jobs = destinations.map((destination) => ({
      name: type,
      data: { v: 1 as const, tenant, event_id: id, event_type: type, object_id: object.id, destination, body, created_at: now },
      opts: { ...webhookJobOptions(this.#deps.config.webhooks), jobId: deliveryId(id, destinationKey(destination)) },
    }));
    const deliveries = jobs.map((j) => j.opts.jobId);
    const settings = this.#deps.config.webhooks;
    const key = deliveryIndexKey(this.#deps.config.key_prefix, tenant);
    const client = (await this.queue.client) as unknown as RedisConnection;
    // The history entry and the jobs in one round trip each, side by side. Both are idempotent
    // (ZADD NX; BullMQ ignores an existing job id): if either fails, emit throws and the caller's
    // repeat completes whichever part is missing.
    const index = client.multi();
    for (const d of deliveries) index.zadd(key, 'NX', now, d);
    index.zremrangebyscore(key, '-inf', now - settings.keep_s * 1000);
    index.zremrangebyrank(key, 0, -settings.keep_count - 1);
    index.pexpire(key, settings.keep_s * 1000);
    const [replies] = await Promise.all([index.exec(), this.queue.addBulk(jobs)]);
    const failed = replies?.find(([err]) => err)?.[0];
    if (!replies || failed) throw failed ?? new Error('delivery history transaction aborted');
    this.#deps.metrics?.webhookEvents.inc({ type });
    return { id, deliveries };
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
