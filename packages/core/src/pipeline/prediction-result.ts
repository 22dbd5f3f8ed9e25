// The one way a PredictionResult is built, whatever produced the outputs: an LM call, a cache
// hit (cost 0, the original usage kept so savings can be counted), or a fallback (degraded).
import type { CacheLevel } from '../cache/index.js';
import { microsToUsd } from '../cost/index.js';
import type { LmUsage } from '../lm/index.js';
import type { PredictionJobData, PredictionResult } from '../queue/index.js';
import type { CachedPrediction } from './cached-prediction.js';

export interface ResultTimes {
  /** When the job was enqueued, when this run started, and now (ms since epoch). */
  enqueuedAt: number;
  startedAt: number;
  now: number;
}

interface ResultParts {
  outputs: Record<string, unknown>;
  usage: PredictionResult['usage'];
  costMicros: number;
  cache: PredictionResult['cache'];
  degraded: boolean;
  model: string;
  route: string;
  programVersion: string | null;
  finishReason: string | null;
  lmMs: number;
}

function buildResult(data: PredictionJobData, times: ResultTimes, parts: ResultParts): PredictionResult {
  return {
    outputs: parts.outputs,
    usage: parts.usage,
    cost_usd: microsToUsd(parts.costMicros),
    cost_micros: parts.costMicros,
    cache: parts.cache,
    degraded: parts.degraded,
    variant: data.variant,
    program_version: parts.programVersion,
    model: parts.model,
    route: parts.route,
    finish_reason: parts.finishReason,
    timings: {
      queue_ms: Math.max(0, times.startedAt - times.enqueuedAt),
      lm_ms: parts.lmMs,
      total_ms: Math.max(0, times.now - times.startedAt),
    },
    completed_at: times.now,
  };
}

export function computedResult(
  data: PredictionJobData,
  route: { name: string; model: string },
  call: { outputs: Record<string, unknown>; usage: LmUsage; costMicros: number; finishReason: string; lmMs: number },
  times: ResultTimes,
): PredictionResult {
  const { prompt_tokens, completion_tokens, total_tokens, cached_tokens, reasoning_tokens } = call.usage;
  return buildResult(data, times, {
    outputs: call.outputs,
    usage: { prompt_tokens, completion_tokens, total_tokens, cached_tokens, reasoning_tokens },
    costMicros: call.costMicros,
    cache: { hit: false, level: null },
    degraded: false,
    model: route.model,
    route: route.name,
    programVersion: data.program_version,
    finishReason: call.finishReason,
    lmMs: call.lmMs,
  });
}

export function cachedResult(data: PredictionJobData, entry: CachedPrediction, level: CacheLevel, times: ResultTimes): PredictionResult {
  return buildResult(data, times, {
    outputs: entry.outputs,
    usage: entry.usage,
    costMicros: 0,
    cache: { hit: true, level },
    degraded: false,
    model: entry.model,
    route: entry.route,
    programVersion: data.program_version,
    finishReason: entry.finish_reason,
    lmMs: 0,
  });
}

/** A job with a `fallback` whose route's breaker is open: the fallback outputs, at once, marked degraded. */
export function degradedResult(data: PredictionJobData, route: { name: string; model: string }, fallback: Record<string, unknown>, times: ResultTimes): PredictionResult {
  return buildResult(data, times, {
    outputs: { ...fallback },
    usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
    costMicros: 0,
    cache: { hit: false, level: null },
    degraded: true,
    model: route.model,
    route: route.name,
    programVersion: data.program_version,
    finishReason: null,
    lmMs: 0,
  });
}
