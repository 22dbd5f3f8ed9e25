// The producer's handle on every route's queue: adding jobs, reading a prediction's job and its
// state in one round trip, and (lazily) one QueueEvents per route for `Prefer: wait`.
//
// The producer's connection fails fast (no offline queue, no resend after a reconnect): while
// Redis is unreachable every call here throws service_unavailable at once, and a request the
// producer answered with an error never reaches Redis later.
import { Job, Queue, QueueEvents, type Telemetry } from 'bullmq';
import {
  JOB_NAMES,
  PRIORITY,
  PredictqError,
  defaultJobOptions,
  duplicateConnection,
  injectTraceContext,
  predictionQueueName,
  queuePrefix,
  type ChatJobData,
  type Config,
  type PredictionJobData,
  type RedisConnection,
} from '@predictq/core';

/** A chat completion's stored answer is kept this long (seconds) at most. */
const CHAT_RESULT_KEEP_S = 3600;

/** Listeners `Prefer: wait` requests may hold at once: bounded by the HTTP requests in flight. */
const MAX_WAITERS = 10_000;

/** A prediction's job as one atomic read saw it: its data and result together with its state. */
export interface JobSnapshot<D = PredictionJobData> {
  job: Job<D>;
  state: 'queued' | 'active' | 'completed' | 'failed';
}

export function unavailable(cause?: unknown): PredictqError {
  return new PredictqError('service_unavailable', 'Redis is not reachable; try again shortly (nothing was changed)', { cause });
}

async function snapshotIn(queue: Queue, id: string): Promise<JobSnapshot | undefined> {
  const client = (await queue.client) as unknown as RedisConnection;
  const keys = queue.keys;
  // MULTI: the job hash and its membership are read at one instant, so a job finishing
  // meanwhile cannot show a result without its state (or a state without its result).
  const replies = await client
    .multi()
    .hgetall(queue.toKey(id))
    .zscore(keys.completed!, id)
    .zscore(keys.failed!, id)
    .lpos(keys.active!, id)
    .exec();
  if (!replies) throw new Error('transaction aborted');
  for (const [err] of replies) if (err) throw err;
  const [hash, completed, failed, active] = replies.map(([, value]) => value) as [Record<string, string>, string | null, string | null, number | null];
  if (!hash || Object.keys(hash).length === 0) return undefined;
  const job = Job.fromJSON(queue, hash as never, id) as Job<PredictionJobData>;
  const state = completed !== null ? 'completed' : failed !== null ? 'failed' : active !== null ? 'active' : 'queued';
  return { job, state };
}

export class PredictionQueues {
  readonly #config: Config;
  readonly #connection: RedisConnection;
  readonly #queues = new Map<string, Queue>();
  readonly #events = new Map<string, Promise<QueueEvents>>();
  readonly #eventConnections: RedisConnection[] = [];

  /** `telemetry`: BullMQ's own spans (bullmq-otel), given only when tracing is on. */
  constructor(config: Config, connection: RedisConnection, options: { telemetry?: Telemetry | undefined } = {}) {
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
      // Connection trouble is answered per request (service_unavailable); the event is noise here.
      queue.on('error', () => {});
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

  /** Runs a Redis step now or not at all: service_unavailable when Redis is not connected or fails. */
  async #redis<T>(step: () => Promise<T>): Promise<T> {
    if (this.#connection.status !== 'ready') throw unavailable();
    try {
      return await step();
    } catch (err) {
      if (err instanceof PredictqError) throw err;
      throw unavailable(err);
    }
  }

  async add(jobId: string, data: PredictionJobData): Promise<Job<PredictionJobData>> {
    const trace = injectTraceContext();
    return this.#redis(
      () => this.queue(data.route).add(JOB_NAMES.predict, trace ? { ...data, trace } : data, { jobId, priority: PRIORITY[data.priority] }) as Promise<Job<PredictionJobData>>,
    );
  }

  async addChat(jobId: string, data: ChatJobData): Promise<void> {
    const trace = injectTraceContext();
    // The answer is read once by the producer that holds the client; it need not stay long.
    const retention = { age: Math.min(CHAT_RESULT_KEEP_S, this.#config.queue.keep_completed_s), count: this.#config.queue.keep_completed_count };
    await this.#redis(() =>
      this.queue(data.route).add(JOB_NAMES.chat, trace ? { ...data, trace } : data, {
        jobId,
        priority: PRIORITY[data.priority],
        removeOnComplete: retention,
      }),
    );
  }

  /** Adds jobs of either kind in one round trip per route (BullMQ ignores ids that exist). */
  async addBulk(jobs: Array<{ data: (PredictionJobData | ChatJobData) & { route: string }; jobId: string; priority: number }>): Promise<void> {
    const byRoute = new Map<string, typeof jobs>();
    for (const job of jobs) {
      const list = byRoute.get(job.data.route);
      if (list) list.push(job);
      else byRoute.set(job.data.route, [job]);
    }
    await this.#redis(() =>
      Promise.all(
        [...byRoute].map(([route, items]) =>
          this.queue(route).addBulk(
            items.map(({ data, jobId, priority }) => ({
              name: 'kind' in data && data.kind === 'chat' ? JOB_NAMES.chat : JOB_NAMES.predict,
              data,
              opts: { jobId, priority },
            })),
          ),
        ),
      ),
    );
  }

  /** A prediction's job and state, read consistently, from whichever route queue holds it. */
  async snapshot<D = PredictionJobData>(id: string): Promise<JobSnapshot<D> | undefined> {
    return this.#redis(async () => {
      const found = await Promise.all(this.all.map((q) => snapshotIn(q, id)));
      return found.find((s): s is JobSnapshot => s !== undefined) as JobSnapshot<D> | undefined;
    });
  }

  /**
   * Whether a route's job has finished (completed, or failed for good) or is gone, from one
   * HMGET of two fields: what `Prefer: wait` asks before it trusts the events, without reading
   * and decoding the whole job (the final answer is read once, by snapshot()).
   */
  async finishedOrGone(id: string, route: string): Promise<boolean> {
    return this.#redis(async () => {
      const queue = this.queue(route);
      const client = (await queue.client) as unknown as RedisConnection;
      // BullMQ sets finishedOn when the job enters completed or failed; every job has a timestamp.
      const [finishedOn, timestamp] = await client.hmget(queue.toKey(id), 'finishedOn', 'timestamp');
      return finishedOn !== null || timestamp === null;
    });
  }

  /** Removes a job not yet running; false when a worker holds it (BullMQ refuses a locked job). */
  async remove(id: string, route: string): Promise<boolean> {
    return this.#redis(async () => (await this.queue(route).remove(id)) === 1);
  }

  /** Finds a prediction's job in whichever route queue holds it. */
  async find(id: string): Promise<Job<PredictionJobData> | undefined> {
    return (await this.snapshot(id))?.job;
  }

  /** One shared QueueEvents per route, created on first use (a blocking connection each). */
  events(route: string): Promise<QueueEvents> {
    let events = this.#events.get(route);
    if (!events) {
      // QueueEvents blocks on its connection, so it gets its own, one that waits out outages
      // and has no command timeout: ioredis times out a blocking XREAD like any command, and
      // the producer's 1 s would break the event stream after every idle second (each
      // `Prefer: wait` then ends only at its next poll).
      const connection = duplicateConnection(this.#connection, {
        maxRetriesPerRequest: null,
        enableOfflineQueue: true,
        autoResendUnfulfilledCommands: true,
        commandTimeout: undefined,
      });
      connection.on('error', () => {});
      this.#eventConnections.push(connection);
      const created = new QueueEvents(predictionQueueName(route), {
        connection,
        prefix: queuePrefix(this.#config.key_prefix),
      });
      // Every `Prefer: wait` request listens here for its job; their number is bounded by
      // the HTTP requests in flight, not by this default of 10.
      created.setMaxListeners(MAX_WAITERS);
      created.on('error', () => {});
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
