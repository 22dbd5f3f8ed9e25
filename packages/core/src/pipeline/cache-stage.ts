// The cache stage: wraps the LM side (compute) with lookup, single-flight and fill, and turns a
// hit into this job's result. Reported as a 'cache:lookup' event.
import type { TieredCache } from '../cache/index.js';
import type { Clock } from '../clock/index.js';
import type { Config } from '../config/index.js';
import type { PredictionResult } from '../queue/index.js';
import { bypassReason, cacheRequestFor } from './cache-request.js';
import { CachedPredictionSchema, cachedPrediction } from './cached-prediction.js';
import type { PredictionContext } from './context.js';
import type { PipelineEvents } from './events.js';
import { cachedResult } from './prediction-result.js';

export interface CacheStageDeps {
  cache: TieredCache;
  config: Config;
  clock: Clock;
  events: PipelineEvents;
}

export async function withCache(deps: CacheStageDeps, ctx: PredictionContext, compute: () => Promise<PredictionResult>): Promise<PredictionResult> {
  const { data, route, job } = ctx;
  const lookup = { route: route.name, model: route.model };
  if (bypassReason(data, deps.cache.settings)) {
    deps.cache.stats.inc('bypassed');
    deps.events.emit('cache:lookup', { ...lookup, outcome: 'bypass', level: null });
    return compute();
  }
  const request = cacheRequestFor(deps.config, data, route, ctx.messages, ctx.params);
  const resolution = await deps.cache.resolve(
    request,
    CachedPredictionSchema,
    async () => {
      const result = await compute();
      return { result, entry: cachedPrediction(result, deps.cache.settings) };
    },
    { signal: job.signal },
  );
  if (resolution.outcome !== 'hit') {
    deps.events.emit('cache:lookup', { ...lookup, outcome: resolution.outcome, level: null });
    return resolution.result;
  }
  deps.events.emit('cache:lookup', { ...lookup, outcome: 'hit', level: resolution.level });
  return cachedResult(data, resolution.entry, resolution.level, { enqueuedAt: job.enqueuedAt, startedAt: ctx.startedAt, now: deps.clock.now() });
}
