// Reads each route's load for the autoscaling signal: ready and running jobs and the oldest
// job's age (BullMQ), breaker state and 429 pause (Redis), and the mean time and tokens of the
// route's recent LM calls (the results of its last completed jobs).
import type { Job, Queue } from 'bullmq';
import { systemClock, type Clock } from '../clock/index.js';
import type { Config, RouteConfig } from '../config/index.js';
import type { RedisConnection } from '../queue/connection.js';
import { predictionQueueName } from '../queue/names.js';
import { BreakerStore, RateLimits } from '../resilience/index.js';
import { oldestWaitingTimestamp } from '../telemetry/queue-watch.js';
import type { RouteLoad } from './recommend-workers.js';

/** Completed jobs looked at for the mean LM call time and tokens. */
const SAMPLE_JOBS = 20;

export interface RouteLoadsDeps {
  config: Config;
  /** Any non-blocking connection (the producer's, or one of the supervisor's own). */
  redis: RedisConnection;
  /** One queue per route, named predict.ROUTE. */
  queues: readonly Queue[];
  clock?: Clock;
}

interface CallSample {
  lmSeconds?: number | undefined;
  tokensPerCall?: number | undefined;
}

/** Mean LM time and tokens of the computed (not cached, not degraded) results among `jobs`. */
export function sampleCalls(jobs: ReadonlyArray<Pick<Job, 'returnvalue'> | undefined>): CallSample {
  let ms = 0;
  let tokens = 0;
  let calls = 0;
  for (const job of jobs) {
    const result = job?.returnvalue as { cache?: { hit?: boolean }; degraded?: boolean; timings?: { lm_ms?: number }; usage?: { total_tokens?: number } } | null | undefined;
    const lmMs = result?.timings?.lm_ms;
    if (!result || result.cache?.hit || result.degraded || typeof lmMs !== 'number' || lmMs <= 0) continue;
    ms += lmMs;
    tokens += result.usage?.total_tokens ?? 0;
    calls += 1;
  }
  if (calls === 0) return {};
  return { lmSeconds: ms / calls / 1000, tokensPerCall: tokens / calls };
}

export class RouteLoads {
  readonly #config: Config;
  readonly #queues: Map<string, Queue>;
  readonly #breakers: BreakerStore;
  readonly #limits: RateLimits;
  readonly #clock: Clock;

  constructor(deps: RouteLoadsDeps) {
    this.#config = deps.config;
    this.#queues = new Map(deps.queues.map((q) => [q.name, q]));
    this.#breakers = new BreakerStore(deps.redis, deps.config.key_prefix);
    this.#limits = new RateLimits(deps.redis, deps.config.key_prefix, deps.config.routes);
    this.#clock = deps.clock ?? systemClock;
  }

  async read(): Promise<RouteLoad[]> {
    return Promise.all(this.#config.routes.map((route) => this.#read(route)));
  }

  async #read(route: RouteConfig): Promise<RouteLoad> {
    const queue = this.#queues.get(predictionQueueName(route.name));
    if (!queue) throw new Error(`no queue for route ${route.name}`);
    const now = this.#clock.now();
    const [counts, oldest, breaker, pausedMs, recent] = await Promise.all([
      queue.getJobCounts('waiting', 'prioritized', 'active'),
      oldestWaitingTimestamp(queue),
      this.#breakers.snapshot(route.name, now),
      this.#limits.pausedFor(route.name),
      queue.getJobs(['completed'], 0, SAMPLE_JOBS - 1, false),
    ]);
    return {
      route: route.name,
      concurrency: route.concurrency,
      backlog: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
      active: counts.active ?? 0,
      oldestWaitingS: oldest === undefined ? 0 : Math.max(0, (now - oldest) / 1000),
      breaker: breaker.state,
      pausedMs: Math.max(0, pausedMs),
      limits: route.limits,
      ...sampleCalls(recent),
      defaultTokensPerCall: route.default_max_tokens,
    };
  }
}
