// The result of a job that carries a `fallback` when its route's breaker is open: the
// fallback outputs, at once, marked degraded (and never cached: no LM produced it).
import type { RouteConfig } from '../config/index.js';
import type { PredictionJobData, PredictionResult } from '../queue/index.js';

export function degradedResult(
  data: PredictionJobData,
  route: RouteConfig,
  fallback: Record<string, unknown>,
  times: { enqueuedAt: number; startedAt: number; now: number },
): PredictionResult {
  return {
    outputs: { ...fallback },
    usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
    cost_usd: 0,
    cost_micros: 0,
    cache: { hit: false, level: null },
    degraded: true,
    variant: data.variant,
    program_version: data.program_version,
    model: route.model,
    route: route.name,
    finish_reason: null,
    timings: { queue_ms: Math.max(0, times.startedAt - times.enqueuedAt), lm_ms: 0, total_ms: times.now - times.startedAt },
    completed_at: times.now,
  };
}
