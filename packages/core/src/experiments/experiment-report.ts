// GET /admin/experiments/:name: each variant against the control, with differences,
// confidence intervals and p-values, and whether the sample is large enough to call.
import type { Experiment } from './experiment-schema.js';
import type { LoadedExperiment } from './experiment-store.js';
import type { ShadowStats, VariantStats } from './experiment-stats.js';
import { requiredSampleSize, summaryOf, twoProportionTest, welchTest, type Comparison } from './statistics.js';

const usd = (micros: number) => micros / 1e6;
const rate = (x: number, n: number) => (n > 0 ? x / n : null);

function costSummary(s: VariantStats) {
  const micros = summaryOf(s.successes, s.cost_micros, s.cost_sq);
  return { n: micros.n, mean: usd(micros.mean), variance: micros.variance / 1e12 };
}

function feedbackSummary(s: VariantStats) {
  return summaryOf(s.feedback.n, s.feedback.sum, s.feedback.sum_sq);
}

export interface VariantReport {
  name: string;
  role: 'control' | 'variant' | 'shadow';
  status: 'active' | 'paused';
  weight: number;
  share: number;
  paused: { at: string; reason: string; details: Record<string, number> } | null;
  program: string | null;
  model: string | null;
  requests: number;
  successes: number;
  errors: number;
  degraded: number;
  success_rate: number | null;
  calls: number;
  failed_calls: number;
  error_rate: number | null;
  cache_hit_rate: number | null;
  cost_usd: number;
  cost_per_request_usd: number | null;
  latency_ms: { p50: number; p95: number } | null;
  feedback: { count: number; mean: number | null };
  enough_data: boolean;
  vs_control: { success_rate: Comparison | null; feedback_score: Comparison | null; cost_per_request_usd: Comparison | null } | null;
}

export function experimentReport(
  experiment: LoadedExperiment,
  stats: Record<string, VariantStats>,
  shadow: ShadowStats | undefined,
): Record<string, unknown> {
  const { definition: d, name } = experiment;
  const control = stats[d.control]!;
  const totalWeight = Object.values(d.variants).reduce((sum, v) => sum + v.weight, 0);
  const required = Math.max(d.min_sample, requiredSampleSize(rate(control.successes, control.requests) ?? 0.5, d.min_detectable_effect, d.alpha));
  const variants: VariantReport[] = Object.entries(d.variants).map(([vName, v]) => {
    const s = stats[vName]!;
    const isControl = vName === d.control;
    const pause = experiment.paused.get(vName);
    const enough = s.requests >= required;
    return {
      name: vName,
      role: isControl ? 'control' : d.shadow?.variant === vName && v.weight === 0 ? 'shadow' : 'variant',
      status: pause ? 'paused' : 'active',
      weight: v.weight,
      share: totalWeight > 0 ? v.weight / totalWeight : 0,
      paused: pause ? { at: new Date(pause.at).toISOString(), reason: pause.reason, details: pause.details } : null,
      program: v.program ?? null,
      model: v.model ?? null,
      requests: s.requests,
      successes: s.successes,
      errors: s.errors,
      degraded: s.degraded,
      success_rate: rate(s.successes, s.requests),
      calls: s.calls,
      failed_calls: s.failed_calls,
      error_rate: rate(s.failed_calls, s.calls),
      cache_hit_rate: rate(s.cache_hits, s.successes),
      cost_usd: usd(s.cost_micros),
      cost_per_request_usd: s.successes > 0 ? usd(s.cost_micros / s.successes) : null,
      latency_ms: s.latency_ms,
      feedback: { count: s.feedback.n, mean: s.feedback.n > 0 ? s.feedback.sum / s.feedback.n : null },
      enough_data: enough,
      vs_control: isControl
        ? null
        : {
            success_rate: twoProportionTest({ x: control.successes, n: control.requests }, { x: s.successes, n: s.requests }, d.alpha),
            feedback_score: welchTest(feedbackSummary(control), feedbackSummary(s), d.alpha),
            cost_per_request_usd: welchTest(costSummary(control), costSummary(s), d.alpha),
          },
    };
  });
  const compared = variants.filter((v) => v.role === 'variant');
  const enough = variants.every((v) => v.role === 'shadow' || v.enough_data);
  return {
    object: 'experiment_report',
    name,
    source: experiment.source,
    control: d.control,
    alpha: d.alpha,
    definition: d,
    sample: {
      required_per_variant: required,
      min_detectable_effect: d.min_detectable_effect,
      enough,
      verdict: !enough
        ? `not enough data: every variant needs ${required} finished predictions to detect a ${d.min_detectable_effect} difference in success rate`
        : compared.some((v) => v.vs_control?.success_rate?.significant || v.vs_control?.feedback_score?.significant)
          ? 'a significant difference: see vs_control'
          : 'no significant difference at this sample size',
    },
    variants,
    shadow: d.shadow && shadow ? shadowReport(d, shadow) : null,
  };
}

function shadowReport(d: Experiment, s: ShadowStats) {
  const shadow = d.shadow!;
  return {
    variant: shadow.variant,
    sample_rate: shadow.sample_rate,
    max_usd_per_day: shadow.max_usd_per_day,
    runs: s.runs,
    errors: s.errors,
    cost_usd: usd(s.cost_micros),
    cost_today_usd: usd(s.cost_today_micros),
    capped: usd(s.cost_today_micros) >= shadow.max_usd_per_day,
    compared: s.compared,
    agreement: {
      exact: rate(s.exact, s.compared),
      normalized: rate(s.normalized, s.compared),
      fields: Object.fromEntries(
        Object.entries(s.fields).map(([f, c]) => [f, { exact: rate(c.exact, s.compared), normalized: rate(c.normalized, s.compared) }]),
      ),
    },
  };
}
