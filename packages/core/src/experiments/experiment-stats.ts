// Per-variant statistics of an experiment, kept in Redis and added to by every process: counts
// (requests, successes, errors, calls and failed calls, cache hits), sums and sums of squares
// (cost in micro-dollars, feedback scores) and latency bins, so the report can compute rates,
// means, variances and quantiles without keeping samples. Also the shadow run's statistics and
// the pairing of a shadow's outputs with its control's. Every key lives `stats_ttl_days` past
// its last write, and an experiment's keys share one hash tag.
import type { RedisConnection } from '../queue/connection.js';
import { utcDay } from '../cost/windows.js';
import type { Agreement } from './agreement.js';
import { latencyBin, latencyQuantiles } from './latency-sketch.js';

export interface VariantStats {
  /** Predictions that finished (succeeded, degraded or failed for good). */
  requests: number;
  successes: number;
  errors: number;
  degraded: number;
  /** Runs of a prediction that ended (each retry counts), and those that failed. */
  calls: number;
  failed_calls: number;
  cache_hits: number;
  /** Over successful predictions (a cache hit costs 0). */
  cost_micros: number;
  cost_sq: number;
  latency_ms: { p50: number; p95: number } | null;
  feedback: { n: number; sum: number; sum_sq: number };
}

export interface ShadowStats {
  runs: number;
  errors: number;
  cost_micros: number;
  cost_today_micros: number;
  compared: number;
  exact: number;
  normalized: number;
  fields: Record<string, { exact: number; normalized: number }>;
}

/** What one run of an experiment's prediction ended in. */
export type RunRecord =
  | { kind: 'ok'; degraded: boolean; cacheHit: boolean; costMicros: number; latencyMs: number }
  | { kind: 'fail' }
  | { kind: 'retry' };

const PAIR_TTL_S = 86_400;

const number = (raw: string | undefined) => (raw === undefined ? 0 : Number(raw));

export class ExperimentStats {
  readonly #redis: RedisConnection;
  readonly #prefix: string;
  readonly #ttlS: number;

  constructor(deps: { redis: RedisConnection; keyPrefix: string; ttlDays: number }) {
    this.#redis = deps.redis;
    this.#prefix = deps.keyPrefix;
    this.#ttlS = deps.ttlDays * 86_400;
  }

  #key(experiment: string, what: string): string {
    return `${this.#prefix}:{exp:${experiment}}:${what}`;
  }

  async record(experiment: string, variant: string, run: RunRecord): Promise<void> {
    const key = this.#key(experiment, `stats:${variant}`);
    const m = this.#redis.multi().hincrby(key, 'calls', 1);
    if (run.kind === 'retry') m.hincrby(key, 'failed_calls', 1);
    if (run.kind === 'fail') m.hincrby(key, 'failed_calls', 1).hincrby(key, 'requests', 1).hincrby(key, 'errors', 1);
    if (run.kind === 'ok' && run.degraded) m.hincrby(key, 'requests', 1).hincrby(key, 'degraded', 1);
    if (run.kind === 'ok' && !run.degraded) {
      m.hincrby(key, 'requests', 1)
        .hincrby(key, 'successes', 1)
        .hincrby(key, 'cost_micros', run.costMicros)
        .hincrby(key, 'cost_sq', run.costMicros * run.costMicros)
        .hincrby(key, latencyBin(run.latencyMs), 1);
      if (run.cacheHit) m.hincrby(key, 'cache_hits', 1);
    }
    await m.expire(key, this.#ttlS).exec();
  }

  async recordFeedback(experiment: string, variant: string, score: number): Promise<void> {
    const key = this.#key(experiment, `stats:${variant}`);
    await this.#redis
      .multi()
      .hincrby(key, 'feedback_n', 1)
      .hincrbyfloat(key, 'feedback_sum', score)
      .hincrbyfloat(key, 'feedback_sq', score * score)
      .expire(key, this.#ttlS)
      .exec();
  }

  async variants(experiment: string, variants: readonly string[]): Promise<Record<string, VariantStats>> {
    const m = this.#redis.multi();
    for (const v of variants) m.hgetall(this.#key(experiment, `stats:${v}`));
    const replies = (await m.exec()) ?? [];
    return Object.fromEntries(variants.map((v, i) => [v, toVariantStats((replies[i]?.[1] ?? {}) as Record<string, string>)]));
  }

  /** A finished shadow run: counted, and its cost added to today's (the cap's) total. */
  async recordShadow(experiment: string, run: { ok: boolean; costMicros: number; at: number }): Promise<void> {
    const key = this.#key(experiment, 'shadow');
    const day = this.#key(experiment, `shadow-cost:${utcDay(run.at)}`);
    await this.#redis
      .multi()
      .hincrby(key, 'runs', 1)
      .hincrby(key, run.ok ? 'ok' : 'errors', 1)
      .hincrby(key, 'cost_micros', run.costMicros)
      .expire(key, this.#ttlS)
      .incrby(day, run.costMicros)
      .expire(day, 2 * 86_400)
      .exec();
  }

  async shadowCostToday(experiment: string, now: number): Promise<number> {
    return number((await this.#redis.get(this.#key(experiment, `shadow-cost:${utcDay(now)}`))) ?? undefined);
  }

  /**
   * One side of a shadow pair (outputs, or null when that side failed). The second side to
   * arrive gets the first one back (one MULTI, so exactly one of them compares); the first gets
   * undefined.
   */
  async pair(experiment: string, controlId: string, side: 'control' | 'shadow', outputs: Record<string, unknown> | null): Promise<{ control: Record<string, unknown> | null; shadow: Record<string, unknown> | null } | undefined> {
    const key = this.#key(experiment, `pair:${controlId}`);
    const other = side === 'control' ? 'shadow' : 'control';
    const replies = await this.#redis.multi().hsetnx(key, side, JSON.stringify(outputs)).hget(key, other).expire(key, PAIR_TTL_S).exec();
    const [[, wrote] = [], [, theirs] = []] = (replies ?? []) as [unknown, unknown][];
    if (wrote !== 1 || typeof theirs !== 'string') return undefined;
    await this.#redis.del(key);
    const mine = outputs;
    const parsed = JSON.parse(theirs) as Record<string, unknown> | null;
    return side === 'control' ? { control: mine, shadow: parsed } : { control: parsed, shadow: mine };
  }

  async recordAgreement(experiment: string, agreement: Agreement): Promise<void> {
    const key = this.#key(experiment, 'shadow');
    const m = this.#redis.multi().hincrby(key, 'compared', 1);
    if (agreement.exact) m.hincrby(key, 'exact', 1);
    if (agreement.normalized) m.hincrby(key, 'normalized', 1);
    for (const [field, f] of Object.entries(agreement.fields)) {
      m.hincrby(key, `exact:${field}`, f.exact ? 1 : 0).hincrby(key, `normalized:${field}`, f.normalized ? 1 : 0);
    }
    await m.expire(key, this.#ttlS).exec();
  }

  async shadow(experiment: string, now: number): Promise<ShadowStats> {
    const [fields, today] = await Promise.all([this.#redis.hgetall(this.#key(experiment, 'shadow')), this.shadowCostToday(experiment, now)]);
    const perField: ShadowStats['fields'] = {};
    for (const [name, raw] of Object.entries(fields)) {
      const match = /^(exact|normalized):(.+)$/.exec(name);
      if (match) (perField[match[2]!] ??= { exact: 0, normalized: 0 })[match[1] as 'exact' | 'normalized'] = Number(raw);
    }
    return {
      runs: number(fields.runs),
      errors: number(fields.errors),
      cost_micros: number(fields.cost_micros),
      cost_today_micros: today,
      compared: number(fields.compared),
      exact: number(fields.exact),
      normalized: number(fields.normalized),
      fields: perField,
    };
  }
}

function toVariantStats(f: Record<string, string>): VariantStats {
  return {
    requests: number(f.requests),
    successes: number(f.successes),
    errors: number(f.errors),
    degraded: number(f.degraded),
    calls: number(f.calls),
    failed_calls: number(f.failed_calls),
    cache_hits: number(f.cache_hits),
    cost_micros: number(f.cost_micros),
    cost_sq: number(f.cost_sq),
    latency_ms: latencyQuantiles(f),
    feedback: { n: number(f.feedback_n), sum: number(f.feedback_sum), sum_sq: number(f.feedback_sq) },
  };
}
