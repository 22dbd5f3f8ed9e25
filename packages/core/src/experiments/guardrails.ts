// Guardrails: a variant whose share of failed calls, or whose cost per request, exceeds the
// control's by the configured margin, over at least `min_requests` calls since it was last
// resumed, is to be paused (its traffic then goes to the control).
import type { Experiment } from './experiment-schema.js';
import type { GuardrailBaseline, PauseRecord } from './experiment-store.js';
import type { VariantStats } from './experiment-stats.js';

const ZERO: GuardrailBaseline = { calls: 0, failed_calls: 0, successes: 0, cost_micros: 0 };

export function baselineOf(stats: VariantStats): GuardrailBaseline {
  return { calls: stats.calls, failed_calls: stats.failed_calls, successes: stats.successes, cost_micros: stats.cost_micros };
}

export function guardrailVerdict(
  definition: Experiment,
  control: VariantStats,
  variant: VariantStats,
  baseline: GuardrailBaseline = ZERO,
  now = Date.now(),
): PauseRecord | undefined {
  const g = definition.guardrails;
  if (!g) return undefined;
  const calls = variant.calls - baseline.calls;
  if (calls < g.min_requests) return undefined;
  const errorRate = (variant.failed_calls - baseline.failed_calls) / calls;
  const controlErrorRate = control.calls > 0 ? control.failed_calls / control.calls : 0;
  if (g.max_error_rate_increase !== undefined && errorRate - controlErrorRate > g.max_error_rate_increase) {
    return { at: now, reason: 'error_rate', details: { error_rate: errorRate, control_error_rate: controlErrorRate, calls } };
  }
  const successes = variant.successes - baseline.successes;
  const cost = successes > 0 ? (variant.cost_micros - baseline.cost_micros) / successes : 0;
  const controlCost = control.successes > 0 ? control.cost_micros / control.successes : 0;
  if (g.max_cost_increase_percent !== undefined && controlCost > 0 && cost > controlCost * (1 + g.max_cost_increase_percent / 100)) {
    return { at: now, reason: 'cost', details: { cost_per_request_micros: cost, control_cost_per_request_micros: controlCost, calls } };
  }
  return undefined;
}
