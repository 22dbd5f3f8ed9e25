// What the cache keeps of a prediction: the answer, not the job. Checked when read back from
// Redis (a value of another shape is a miss), and only given to the cache when it may be shared.
import { z } from 'zod';
import type { Clock } from '../clock/index.js';
import type { Config, CacheSettings } from '../config/index.js';
import { UsageSchema, type PredictionResult } from '../queue/index.js';
import { bypassReason, cacheRequestFor } from './cache-request.js';
import type { CacheKind } from './cache-stage.js';
import type { PredictionContext } from './context.js';
import { cachedResult } from './prediction-result.js';

export const CachedPredictionSchema = z.object({
  outputs: z.record(z.string(), z.unknown()),
  usage: UsageSchema,
  finish_reason: z.string().nullable(),
  model: z.string(),
  route: z.string(),
  program_version: z.string().nullable(),
  /** When the answer was computed (ms since epoch). */
  computed_at: z.number(),
});

export type CachedPrediction = z.infer<typeof CachedPredictionSchema>;

/** The entry to share, or undefined for an answer that is this request's alone (degraded, truncated). */
export function cachedPrediction(result: PredictionResult, settings: CacheSettings): CachedPrediction | undefined {
  if (result.degraded && !settings.store_degraded) return undefined;
  if (result.finish_reason === 'length' && !settings.store_truncated) return undefined;
  return {
    outputs: result.outputs,
    usage: result.usage,
    finish_reason: result.finish_reason,
    model: result.model,
    route: result.route,
    program_version: result.program_version,
    computed_at: result.completed_at,
  };
}

/** How a prediction uses the cache; undefined when it skips it (cache off, no-store, a sampling temperature). */
export function predictionCacheKind(config: Config, ctx: PredictionContext, clock: Clock): CacheKind<PredictionResult, CachedPrediction> | undefined {
  const { data, route, job } = ctx;
  if (bypassReason(data, config.cache)) return undefined;
  return {
    request: cacheRequestFor(config, data, route, ctx.messages, ctx.params),
    type: CachedPredictionSchema,
    entryOf: (result) => cachedPrediction(result, config.cache),
    fromEntry: (entry, level) => cachedResult(data, entry, level, { enqueuedAt: job.enqueuedAt, startedAt: ctx.startedAt, now: clock.now() }),
  };
}
