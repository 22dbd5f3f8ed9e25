// What the local supervisor (npm start) is doing, kept in Redis for the producer to show in
// GET /admin/stats and as dspy_workers_desired / dspy_workers_running. One JSON value per key
// prefix, rewritten on every supervisor tick and expiring soon after the supervisor stops.
import type { RedisConnection } from '../queue/connection.js';
import type { RouteRecommendation } from './recommend-workers.js';

export type WorkerSlotState = 'starting' | 'running' | 'draining' | 'restarting' | 'crash_loop' | 'failed';

export interface WorkerSlotStatus {
  /** 1-based; a restarted worker keeps its slot (and its metrics port). */
  slot: number;
  pid: number | null;
  state: WorkerSlotState;
  /** Restarts within the crash-loop window. */
  restarts: number;
}

export interface ScaleDecisionRecord {
  at: number;
  from: number;
  to: number;
  reason: string;
}

export interface SupervisorStatus {
  mode: 'auto' | 'fixed';
  min: number;
  max: number;
  /** Worker processes the supervisor wants now. */
  desired: number;
  /** Worker processes running and taking jobs (draining ones are not counted). */
  running: number;
  draining: number;
  workers: WorkerSlotStatus[];
  /** The latest scaling decisions, newest first. */
  decisions: ScaleDecisionRecord[];
  /** The recommendation behind the last decision, per route (autoscaling only). */
  routes: RouteRecommendation[];
  /** Why the supervisor holds or moves, in one line. */
  reason: string;
  updated_at: number;
}

export class SupervisorStatusStore {
  readonly key: string;
  readonly #redis: RedisConnection;

  constructor(redis: RedisConnection, keyPrefix: string) {
    this.#redis = redis;
    this.key = `${keyPrefix}:autoscale:status`;
  }

  /** `ttlMs`: how long the status stands without a newer one (a few supervisor ticks). */
  async write(status: SupervisorStatus, ttlMs: number): Promise<void> {
    await this.#redis.set(this.key, JSON.stringify(status), 'PX', Math.max(1000, Math.ceil(ttlMs)));
  }

  /** The latest status, or null when no supervisor has reported lately. */
  async read(): Promise<SupervisorStatus | null> {
    const raw = await this.#redis.get(this.key);
    if (!raw) return null;
    try {
      return JSON.parse(raw) as SupervisorStatus;
    } catch {
      return null;
    }
  }
}
