// The producer's cache fast path: an answer in this process's L1 or in L2 is given at once,
// without a job (cache level "memory" or "redis", cost 0). The answer is kept for the finished-job retention so GET /v1/predictions/:id
// still finds it.
import {
  CachedPredictionSchema,
  bypassReason,
  cacheRequestFor,
  cachedResult,
  type Clock,
  type Config,
  type Metrics,
  type TieredCache,
} from '@predictq/core';
import { predictionObject, type PredictionObject } from './prediction-object.js';
import type { ResolvedPrediction } from './prediction-request.js';

export class CacheFastPath {
  readonly #cache: TieredCache;
  readonly #config: Config;
  readonly #metrics: Metrics;
  readonly #prefix: string;

  constructor(cache: TieredCache, config: Config, metrics: Metrics) {
    this.#cache = cache;
    this.#config = config;
    this.#metrics = metrics;
    this.#prefix = `${config.key_prefix}:cache:answered:`;
  }

  /** The finished prediction when the answer is in L2; undefined sends the request down the queue. */
  async answer(id: string, { data, prepared }: ResolvedPrediction, clock: Clock): Promise<PredictionObject | undefined> {
    const settings = this.#config.cache;
    if (!settings.producer_fast_path || data.cache === 'refresh' || bypassReason(data, settings)) return undefined;
    const started = clock.now();
    const found = await this.#cache.peek(cacheRequestFor(this.#config, data, prepared.route, prepared.messages, prepared.params), CachedPredictionSchema);
    if (!found) return undefined;
    this.#metrics.cacheHits.inc({ level: found.level });
    const result = cachedResult(data, found.entry, found.level, { enqueuedAt: started, startedAt: started, now: clock.now() });
    const prediction = predictionObject(id, data, 'succeeded', { result });
    await this.#cache.guarded((r) =>
      r.set(this.#prefix + id, JSON.stringify({ tenant: data.tenant, prediction, experiment: data.experiment }), 'EX', this.#config.queue.keep_completed_s),
    );
    return prediction;
  }

  /** A prediction answered by the fast path, for its tenant only. */
  async find(id: string, tenant: string): Promise<PredictionObject | undefined> {
    return (await this.findRecord(id, tenant))?.prediction;
  }

  /** The same, with the experiment that assigned its variant. */
  async findRecord(id: string, tenant: string): Promise<{ prediction: PredictionObject; experiment?: string } | undefined> {
    const raw = await this.#cache.guarded((r) => r.get(this.#prefix + id));
    if (!raw) return undefined;
    try {
      const stored = JSON.parse(raw) as { tenant: string; prediction: PredictionObject; experiment?: string };
      return stored.tenant === tenant ? stored : undefined;
    } catch {
      return undefined;
    }
  }
}
