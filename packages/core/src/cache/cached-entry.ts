// What the cache stores of a prediction (the answer, not the job), and how a hit becomes the
// job's result: cost 0, this job's own timings and variant, the original usage kept so cost
// tracking can count what the hit saved.
import type { CACHE_LEVELS } from '../telemetry/metrics.js';
import type { PredictionJobData, PredictionResult } from '../queue/index.js';

export type CacheLevel = (typeof CACHE_LEVELS)[number];

export interface CachedEntry {
  outputs: Record<string, unknown>;
  usage: PredictionResult['usage'];
  finish_reason: string | null;
  model: string;
  route: string;
  program_version: string | null;
  /** When the answer was computed (ms since epoch). */
  computed_at: number;
}

export function entryFromResult(result: PredictionResult): CachedEntry {
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

export function resultFromEntry(
  entry: CachedEntry,
  data: PredictionJobData,
  level: CacheLevel,
  timing: { queueMs: number; startedAt: number; now: number },
): PredictionResult {
  return {
    outputs: entry.outputs,
    usage: entry.usage,
    cost_usd: 0,
    cache: { hit: true, level },
    degraded: false,
    variant: data.variant,
    program_version: data.program_version,
    model: entry.model,
    route: entry.route,
    finish_reason: entry.finish_reason,
    timings: { queue_ms: Math.max(0, timing.queueMs), lm_ms: 0, total_ms: Math.max(0, timing.now - timing.startedAt) },
    completed_at: timing.now,
  };
}
