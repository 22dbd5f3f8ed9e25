// Experiment definitions (the config file's, and run-time ones from PUT /admin/experiments/:name,
// which win over a file definition of the same name) and the variants a guardrail paused, shared
// through Redis. A process trusts its copy of an experiment for `experiment_store.refresh_ms`.
import type { RedisConnection } from '../queue/connection.js';
import { LRUCache } from 'lru-cache';
import { systemClock, type Clock } from '../clock/index.js';
import type { Config } from '../config/index.js';
import { PredictqError } from '../errors/index.js';
import { ExperimentSchema, type Experiment } from './experiment-schema.js';

export interface PauseRecord {
  at: number;
  reason: 'error_rate' | 'cost';
  /** What the guardrail saw (rates and costs of the variant and the control). */
  details: Record<string, number>;
}

/** The counters a resumed variant's guardrail starts again from. */
export interface GuardrailBaseline {
  calls: number;
  failed_calls: number;
  successes: number;
  cost_micros: number;
}

export interface LoadedExperiment {
  name: string;
  definition: Experiment;
  source: 'config' | 'runtime';
  paused: Map<string, PauseRecord>;
  baselines: Map<string, GuardrailBaseline>;
}

export class ExperimentStore {
  readonly #redis: RedisConnection;
  readonly #config: Config;
  readonly #clock: Clock;
  readonly #prefix: string;
  readonly #cache: LRUCache<string, { loaded: LoadedExperiment | null }>;

  constructor(deps: { redis: RedisConnection; config: Config; clock?: Clock }) {
    this.#redis = deps.redis;
    this.#config = deps.config;
    this.#clock = deps.clock ?? systemClock;
    this.#prefix = deps.config.key_prefix;
    this.#cache = new LRUCache({ max: 1024, ttl: Math.max(1, deps.config.experiment_store.refresh_ms), perf: { now: () => this.#clock.now() } });
  }

  get #defs(): string {
    return `${this.#prefix}:{experiments}:defs`;
  }

  #key(name: string, what: string): string {
    return `${this.#prefix}:{exp:${name}}:${what}`;
  }

  /** The experiment as every process sees it (cached for refresh_ms); undefined when unknown. */
  async get(name: string, fresh = false): Promise<LoadedExperiment | undefined> {
    const cached = fresh ? undefined : this.#cache.get(name);
    if (cached) return cached.loaded ?? undefined;
    const [raw, paused, baselines] = await Promise.all([
      this.#redis.hget(this.#defs, name),
      this.#redis.hgetall(this.#key(name, 'paused')),
      this.#redis.hgetall(this.#key(name, 'baseline')),
    ]);
    const file = Object.hasOwn(this.#config.experiments, name) ? this.#config.experiments[name] : undefined;
    const parsed = raw === null ? undefined : ExperimentSchema.safeParse(JSON.parse(raw));
    const definition = parsed?.success ? parsed.data : file;
    const loaded: LoadedExperiment | null = definition
      ? {
          name,
          definition,
          source: parsed?.success ? 'runtime' : 'config',
          paused: new Map(Object.entries(paused).map(([v, json]) => [v, JSON.parse(json) as PauseRecord])),
          baselines: new Map(Object.entries(baselines).map(([v, json]) => [v, JSON.parse(json) as GuardrailBaseline])),
        }
      : null;
    this.#cache.set(name, { loaded });
    return loaded ?? undefined;
  }

  async names(): Promise<string[]> {
    const runtime = await this.#redis.hkeys(this.#defs);
    return [...new Set([...Object.keys(this.#config.experiments), ...runtime])].sort();
  }

  /** Stores a run-time definition (already validated); conflict past `max_experiments`. */
  async put(name: string, definition: Experiment): Promise<void> {
    const names = await this.names();
    if (!names.includes(name) && names.length >= this.#config.experiment_store.max_experiments) {
      throw new PredictqError('conflict', `there are already ${names.length} experiments (experiment_store.max_experiments); delete one first`);
    }
    await this.#redis.hset(this.#defs, name, JSON.stringify(definition));
    this.#cache.delete(name);
  }

  /** Removes a run-time definition (a file one of the same name applies again); false when there was none. */
  async delete(name: string): Promise<boolean> {
    const removed = (await this.#redis.hdel(this.#defs, name)) === 1;
    this.#cache.delete(name);
    return removed;
  }

  /** Pauses a variant; true only for the call that paused it (so it is logged and counted once). */
  async pause(name: string, variant: string, record: PauseRecord): Promise<boolean> {
    const key = this.#key(name, 'paused');
    const [[, set] = []] = ((await this.#redis.multi().hsetnx(key, variant, JSON.stringify(record)).expire(key, this.#ttlS).exec()) ?? []) as [unknown, unknown][];
    this.#cache.delete(name);
    return set === 1;
  }

  /** Resumes a variant by hand; its guardrail counts again from `baseline`. False when it was not paused. */
  async resume(name: string, variant: string, baseline: GuardrailBaseline): Promise<boolean> {
    const replies = (await this.#redis
      .multi()
      .hdel(this.#key(name, 'paused'), variant)
      .hset(this.#key(name, 'baseline'), variant, JSON.stringify(baseline))
      .expire(this.#key(name, 'baseline'), this.#ttlS)
      .exec()) ?? [];
    this.#cache.delete(name);
    return replies[0]?.[1] === 1;
  }

  get #ttlS(): number {
    return this.#config.experiment_store.stats_ttl_days * 86_400;
  }
}
