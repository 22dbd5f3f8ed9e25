// The local supervisor of `npm start`'s workers: a fixed count, or autoscaling between min and
// max. Every interval it reads the route loads, lets the policy decide, resizes the pool, logs
// each change with its reason and publishes its status (GET /admin/stats, dspy_workers_*).
import type { AutoscaleSettings, RouteLoad, ScaleDecisionRecord, SupervisorStatus } from '@predictq/core';
import { ScalePolicy } from './scale-policy.js';
import { systemScheduler, type PoolLog, type Scheduler, type WorkerPool } from './worker-pool.js';

export type WorkerPlan = { mode: 'fixed'; workers: number } | { mode: 'auto'; settings: AutoscaleSettings };

export interface SupervisorDeps {
  pool: WorkerPool;
  plan: WorkerPlan;
  /** The route loads (RouteLoads.read); only autoscaling reads them. */
  readLoads: () => Promise<RouteLoad[]>;
  /** Stores the status for the producer (SupervisorStatusStore.write). */
  publish: (status: SupervisorStatus, ttlMs: number) => Promise<void>;
  log: PoolLog;
  scheduler?: Scheduler;
  /** Status and tick period of a fixed count (autoscaling uses its interval_ms). */
  fixedIntervalMs?: number;
}

/** Decisions kept in the status. */
const KEEP_DECISIONS = 10;

export class Supervisor {
  readonly #deps: SupervisorDeps;
  readonly #scheduler: Scheduler;
  readonly #policy: ScalePolicy | undefined;
  readonly #intervalMs: number;
  readonly #decisions: ScaleDecisionRecord[] = [];
  #routes: SupervisorStatus['routes'] = [];
  #reason = 'starting';
  #cancel: (() => void) | undefined;
  #stopped = false;
  #ticking: Promise<void> | undefined;
  #loadsFailing = false;

  constructor(deps: SupervisorDeps) {
    this.#deps = deps;
    this.#scheduler = deps.scheduler ?? systemScheduler;
    this.#policy = deps.plan.mode === 'auto' ? new ScalePolicy(deps.plan.settings) : undefined;
    this.#intervalMs = deps.plan.mode === 'auto' ? deps.plan.settings.interval_ms : (deps.fixedIntervalMs ?? 5000);
  }

  /** Starts the first workers (min, or the fixed count) and the periodic ticks. */
  start(): void {
    const { plan, pool } = this.#deps;
    const first = plan.mode === 'auto' ? plan.settings.min : plan.workers;
    this.#reason = plan.mode === 'auto' ? `autoscaling between ${plan.settings.min} and ${plan.settings.max}; starting at min` : `a fixed count of ${first}`;
    this.#record(0, first, this.#reason);
    pool.resize(first);
    this.#schedule(0);
  }

  /** One round: read, decide, resize, publish. Public for tests. */
  async tick(): Promise<void> {
    const { pool, plan } = this.#deps;
    if (plan.mode === 'fixed') {
      // A fixed count needs no decision; the pool restarts what dies.
      if (pool.size !== plan.workers) pool.resize(plan.workers);
    } else if (this.#policy) {
      let loads: RouteLoad[] | undefined;
      try {
        loads = await this.#deps.readLoads();
        if (this.#loadsFailing) this.#deps.log('info', 'autoscale: the queues can be read again');
        this.#loadsFailing = false;
      } catch (err) {
        if (!this.#loadsFailing) this.#deps.log('warn', `autoscale: cannot read the queues (${(err as Error).message}); keeping ${pool.size} workers`);
        this.#loadsFailing = true;
      }
      if (loads && !this.#stopped) {
        const decision = this.#policy.decide(this.#scheduler.now(), pool.size, loads);
        this.#routes = decision.recommendation.routes;
        this.#reason = decision.reason;
        if (decision.changed) {
          this.#deps.log('info', `autoscale: ${pool.size} -> ${decision.desired} workers: ${decision.reason}`);
          this.#record(pool.size, decision.desired, decision.reason);
          pool.resize(decision.desired);
        }
      }
    }
    if (this.#stopped) return;
    await this.#deps.publish(this.status(), this.#intervalMs * 3 + 2000).catch(() => undefined);
  }

  status(): SupervisorStatus {
    const { plan, pool } = this.#deps;
    const [min, max] = plan.mode === 'auto' ? [plan.settings.min, plan.settings.max] : [plan.workers, plan.workers];
    return {
      mode: plan.mode,
      min,
      max,
      desired: pool.size,
      running: pool.running,
      draining: pool.draining,
      workers: pool.status(),
      decisions: [...this.#decisions],
      routes: this.#routes,
      reason: this.#reason,
      updated_at: this.#scheduler.now(),
    };
  }

  /** Stops deciding, then drains every worker within `deadlineMs`. */
  async stop(deadlineMs: number): Promise<void> {
    this.#stopped = true;
    this.#cancel?.();
    await this.#ticking?.catch(() => undefined);
    await this.#deps.pool.stop(deadlineMs);
  }

  #record(from: number, to: number, reason: string): void {
    this.#decisions.unshift({ at: this.#scheduler.now(), from, to, reason });
    this.#decisions.length = Math.min(this.#decisions.length, KEEP_DECISIONS);
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#cancel = this.#scheduler.setTimeout(() => {
      this.#ticking = this.tick().finally(() => this.#schedule(this.#intervalMs));
    }, ms);
  }
}
