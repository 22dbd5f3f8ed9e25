// The producer's view of autoscaling: the route loads and the recommendation made from them
// (the same recommendWorkers() the local supervisor runs), exported as dspy_queue_backlog and
// dspy_workers_recommended for KEDA, and the `autoscale` section of GET /admin/stats with what
// the local supervisor reports. One read serves every gauge of a scrape.
import type { Queue } from 'bullmq';
import { systemClock, type Clock } from '../clock/index.js';
import type { Config } from '../config/index.js';
import type { RedisConnection } from '../queue/connection.js';
import type { ScalingSource } from '../telemetry/scaling-watch.js';
import { recommendWorkers, type Recommendation } from './recommend-workers.js';
import { RouteLoads } from './route-loads.js';
import { SupervisorStatusStore, type SupervisorStatus } from './supervisor-status.js';

/** A recommendation is reused this long, so the gauges of one scrape share a read. */
const REUSE_MS = 1000;

export interface ScalingStats {
  /** Unclamped: KEDA (or the supervisor) applies its own min and max. */
  recommended: Recommendation;
  /** The local supervisor's report, or null when none runs (e.g. on Kubernetes). */
  supervisor: SupervisorStatus | null;
}

export class ScalingSignal implements ScalingSource {
  readonly #loads: RouteLoads;
  readonly #status: SupervisorStatusStore;
  readonly #clock: Clock;
  #last: { at: number; value: Promise<Recommendation> } | undefined;

  constructor(deps: { config: Config; redis: RedisConnection; queues: readonly Queue[]; clock?: Clock }) {
    this.#clock = deps.clock ?? systemClock;
    this.#loads = new RouteLoads({ config: deps.config, redis: deps.redis, queues: deps.queues, clock: this.#clock });
    this.#status = new SupervisorStatusStore(deps.redis, deps.config.key_prefix);
  }

  recommendation(): Promise<Recommendation> {
    const now = this.#clock.now();
    if (this.#last && now - this.#last.at < REUSE_MS) return this.#last.value;
    const value = this.#loads.read().then((loads) => recommendWorkers(loads));
    value.catch(() => {
      if (this.#last?.value === value) this.#last = undefined;
    });
    this.#last = { at: now, value };
    return value;
  }

  async routes(): Promise<Array<{ route: string; backlog: number; workers: number }>> {
    return (await this.recommendation()).routes.map((r) => ({ route: r.route, backlog: r.backlog, workers: r.workers }));
  }

  async supervisor(): Promise<SupervisorStatus | null> {
    return this.#status.read();
  }

  async stats(): Promise<ScalingStats> {
    const [recommended, supervisor] = await Promise.all([this.recommendation(), this.supervisor()]);
    return { recommended, supervisor };
  }
}
