// The pipeline's cache stage: wraps the LM side (compute) with lookup, single-flight and fill,
// and turns a hit into this job's result. Reported as a 'cache:lookup' event.
import type { Config } from '../config/index.js';
import type { Clock } from '../pipeline/clock.js';
import type { PipelineEvents } from '../pipeline/events.js';
import type { PredictionRequestContext } from '../pipeline/prediction-pipeline.js';
import type { PredictionResult } from '../queue/index.js';
import { bypassReason, cacheRequestFor } from './cache-key.js';
import { resultFromEntry } from './cached-entry.js';
import type { TieredCache } from './tiered-cache.js';

export interface CacheStageDeps {
  cache: TieredCache;
  config: Config;
  clock: Clock;
  events: PipelineEvents;
}

export async function runCacheStage(
  deps: CacheStageDeps,
  ctx: PredictionRequestContext,
  compute: () => Promise<PredictionResult>,
): Promise<PredictionResult> {
  const { data, route, job } = ctx;
  const lookup = { route: route.name, model: route.model };
  const bypass = bypassReason(data, deps.cache.settings);
  if (bypass) {
    deps.cache.stats.inc('bypassed');
    deps.events.emit('cache:lookup', { ...lookup, outcome: 'bypass', level: null });
    return compute();
  }
  const request = cacheRequestFor(deps.config, data, route, ctx.messages);
  const resolution = await deps.cache.resolve(request, compute, { signal: job.signal });
  if (resolution.outcome !== 'hit') {
    deps.events.emit('cache:lookup', { ...lookup, outcome: resolution.outcome, level: null });
    return resolution.result;
  }
  deps.events.emit('cache:lookup', { ...lookup, outcome: 'hit', level: resolution.level });
  return resultFromEntry(resolution.entry, data, resolution.level, {
    queueMs: ctx.startedAt - job.enqueuedAt,
    startedAt: ctx.startedAt,
    now: deps.clock.now(),
  });
}
