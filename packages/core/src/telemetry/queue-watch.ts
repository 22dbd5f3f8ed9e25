// Queue depth and backlog age for /metrics, read from BullMQ when Prometheus scrapes (a gauge's
// collect()), so no timer polls Redis between scrapes. Label values: the watched queues' names
// (one per configured route) and the fixed QUEUE_STATES.
import { Queue } from 'bullmq';
import type { RedisConnection } from '../queue/connection.js';
import type { Gauge } from 'prom-client';
import { systemClock, type Clock } from '../clock/index.js';
import type { Config } from '../config/index.js';
import { predictionQueueName, queuePrefix } from '../queue/names.js';

export const QUEUE_STATES = ['waiting', 'prioritized', 'active', 'delayed', 'completed', 'failed'] as const;

/** A scrape never waits on Redis longer than this; the gauges keep their last values. */
const COLLECT_TIMEOUT_MS = 2000;
/** Priority bands looked at for the oldest prioritized job (BullMQ scores are priority * 2^32 + counter). */
const MAX_PRIORITY_BANDS = 8;
const BAND = 0x100000000;

function withTimeout<T>(promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('queue metrics timed out')), COLLECT_TIMEOUT_MS);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** BullMQ's client is an ioredis connection; its own type only lists the calls BullMQ makes. */
async function redisOf(queue: Queue): Promise<RedisConnection> {
  return (await queue.client) as unknown as RedisConnection;
}

/** Ids of the oldest job of each priority band, lowest band first. */
async function oldestPrioritizedIds(queue: Queue): Promise<string[]> {
  const client = await redisOf(queue);
  const key = queue.keys.prioritized!;
  const ids: string[] = [];
  let from = '-inf';
  for (let i = 0; i < MAX_PRIORITY_BANDS; i++) {
    const found = await client.zrangebyscore(key, from, '+inf', 'WITHSCORES', 'LIMIT', 0, 1);
    const [id, score] = found;
    if (id === undefined || score === undefined) break;
    ids.push(id);
    from = String((Math.floor(Number(score) / BAND) + 1) * BAND);
  }
  return ids;
}

/** Enqueue time (ms) of the oldest job waiting to run (waiting or prioritized), if any. */
export async function oldestWaitingTimestamp(queue: Queue): Promise<number | undefined> {
  const client = await redisOf(queue);
  // The wait list is LPUSHed and taken from the right: its oldest job is the last element.
  const [tail, prioritized] = await Promise.all([client.lindex(queue.keys.wait!, -1), oldestPrioritizedIds(queue)]);
  const ids = tail ? [tail, ...prioritized] : prioritized;
  if (ids.length === 0) return undefined;
  const stamps = await Promise.all(ids.map((id) => client.hget(queue.toKey(id), 'timestamp')));
  const times = stamps.map(Number).filter((t) => Number.isFinite(t) && t > 0);
  return times.length ? Math.min(...times) : undefined;
}

/** The queues a process reports on. Producer and workers each watch every route's queue. */
export class QueueWatch {
  readonly #queues = new Set<Queue>();
  readonly #clock: Clock;

  constructor(clock: Clock = systemClock) {
    this.#clock = clock;
  }

  /** Starts reporting these queues; the returned function stops it (call it before closing them). */
  watch(queues: Iterable<Queue>): () => void {
    const added = [...queues];
    for (const q of added) this.#queues.add(q);
    return () => {
      for (const q of added) this.#queues.delete(q);
    };
  }

  get size(): number {
    return this.#queues.size;
  }

  async collectCounts(gauge: Gauge<'queue' | 'state'>): Promise<void> {
    await Promise.all(
      [...this.#queues].map(async (queue) => {
        try {
          const counts = await withTimeout(queue.getJobCounts(...QUEUE_STATES));
          for (const state of QUEUE_STATES) gauge.set({ queue: queue.name, state }, counts[state] ?? 0);
        } catch {
          // Redis unreachable: keep the last values rather than failing the whole scrape.
        }
      }),
    );
  }

  async collectOldestWaiting(gauge: Gauge<'queue'>): Promise<void> {
    await Promise.all(
      [...this.#queues].map(async (queue) => {
        try {
          const oldest = await withTimeout(oldestWaitingTimestamp(queue));
          gauge.set({ queue: queue.name }, oldest === undefined ? 0 : Math.max(0, (this.#clock.now() - oldest) / 1000));
        } catch {
          // as above
        }
      }),
    );
  }
}

/**
 * For a process that holds no Queue objects (a worker): opens one per route on `connection`,
 * watches them, and returns the function that stops watching and closes them.
 */
export function watchPredictionQueues(watch: QueueWatch, config: Config, connection: RedisConnection): () => Promise<void> {
  const queues = config.routes.map((route) => new Queue(predictionQueueName(route.name), { connection, prefix: queuePrefix(config.key_prefix) }));
  const unwatch = watch.watch(queues);
  return async () => {
    unwatch();
    await Promise.all(queues.map((q) => q.close()));
  };
}
