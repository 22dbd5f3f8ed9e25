// The producer's handle on every route's queue: adding jobs, finding a prediction by id
// across routes, and (lazily) one QueueEvents per route for `Prefer: wait`.
import { Queue, QueueEvents, type Job, type Telemetry } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  PRIORITY,
  defaultJobOptions,
  injectTraceContext,
  predictionQueueName,
  queuePrefix,
  type Config,
  type PredictionJobData,
} from '@predictq/core';

/** Listeners `Prefer: wait` requests may hold at once: bounded by the HTTP requests in flight. */
const MAX_WAITERS = 10_000;

export class PredictionQueues {
  readonly #config: Config;
  readonly #connection: Redis;
  readonly #queues = new Map<string, Queue>();
  readonly #events = new Map<string, Promise<QueueEvents>>();
  readonly #eventConnections: Redis[] = [];

  /** `telemetry`: BullMQ's own spans (bullmq-otel), given only when tracing is on. */
  constructor(config: Config, connection: Redis, options: { telemetry?: Telemetry | undefined } = {}) {
    this.#config = config;
    this.#connection = connection;
    for (const route of config.routes) {
      const queue = new Queue(predictionQueueName(route.name), {
        connection,
        prefix: queuePrefix(config.key_prefix),
        defaultJobOptions: defaultJobOptions(config.queue),
        ...(options.telemetry ? { telemetry: options.telemetry } : {}),
      });
      // Each `Prefer: wait` request adds a 'closing' listener here (Job.waitUntilFinished).
      queue.setMaxListeners(MAX_WAITERS);
      this.#queues.set(route.name, queue);
    }
  }

  get all(): Queue[] {
    return [...this.#queues.values()];
  }

  queue(route: string): Queue {
    const queue = this.#queues.get(route);
    if (!queue) throw new Error(`no queue for route ${route}`);
    return queue;
  }

  async add(jobId: string, data: PredictionJobData): Promise<Job> {
    const trace = injectTraceContext();
    return this.queue(data.route).add('predict', trace ? { ...data, trace } : data, { jobId, priority: PRIORITY[data.priority] });
  }

  /** Finds a prediction's job in whichever route queue holds it. */
  async find(id: string): Promise<Job | undefined> {
    const found = await Promise.all(this.all.map((q) => q.getJob(id)));
    return found.find((job): job is Job => Boolean(job));
  }

  /** One shared QueueEvents per route, created on first use (a blocking connection each). */
  events(route: string): Promise<QueueEvents> {
    let events = this.#events.get(route);
    if (!events) {
      // QueueEvents blocks on its connection, so it gets its own (closed in close()).
      const connection = this.#connection.duplicate();
      this.#eventConnections.push(connection);
      const created = new QueueEvents(predictionQueueName(route), {
        connection,
        prefix: queuePrefix(this.#config.key_prefix),
      });
      // Every `Prefer: wait` request listens here for its job; their number is bounded by
      // the HTTP requests in flight, not by this default of 10.
      created.setMaxListeners(MAX_WAITERS);
      events = created.waitUntilReady().then(() => created);
      this.#events.set(route, events);
    }
    return events;
  }

  async close(): Promise<void> {
    const events = await Promise.allSettled(this.#events.values());
    await Promise.all(
      events.map(async (e) => {
        if (e.status === 'fulfilled') await e.value.close();
      }),
    );
    await Promise.all(this.all.map((q) => q.close()));
    for (const connection of this.#eventConnections) connection.disconnect();
  }
}
