// The report's statistics, from summary counts kept in Redis: a two-proportion z test for success
// rates, Welch's t test for means (feedback scores, cost per request), each with a confidence
// interval of the difference (variant minus control), and the sample size a difference of
// `min_detectable_effect` needs. Distribution functions come from @stdlib.
import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import normalQuantile from '@stdlib/stats-base-dists-normal-quantile';
import tCdf from '@stdlib/stats-base-dists-t-cdf';
import tQuantile from '@stdlib/stats-base-dists-t-quantile';

export interface Comparison {
  test: 'two_proportion_z' | 'welch_t';
  /** Variant minus control. */
  difference: number;
  /** The (1 - alpha) confidence interval of the difference. */
  ci: [number, number];
  p_value: number;
  /** z or t. */
  statistic: number;
  /** Welch–Satterthwaite degrees of freedom (t test only). */
  df?: number;
  significant: boolean;
}

export interface Summary {
  n: number;
  mean: number;
  variance: number;
}

/** Mean and sample variance from a count, a sum and a sum of squares. */
export function summaryOf(n: number, sum: number, sumSquares: number): Summary {
  const mean = n > 0 ? sum / n : 0;
  const variance = n > 1 ? Math.max(0, (sumSquares - (sum * sum) / n) / (n - 1)) : 0;
  return { n, mean, variance };
}

/** Pooled two-proportion z test of successes x out of n; the interval is the unpooled (Wald) one. */
export function twoProportionTest(control: { x: number; n: number }, variant: { x: number; n: number }, alpha: number): Comparison | null {
  if (control.n === 0 || variant.n === 0) return null;
  const p1 = control.x / control.n;
  const p2 = variant.x / variant.n;
  const difference = p2 - p1;
  const pooled = (control.x + variant.x) / (control.n + variant.n);
  const se0 = Math.sqrt(pooled * (1 - pooled) * (1 / control.n + 1 / variant.n));
  const statistic = se0 > 0 ? difference / se0 : 0;
  const pValue = se0 > 0 ? Math.min(1, 2 * normalCdf(-Math.abs(statistic), 0, 1)) : 1;
  const se = Math.sqrt((p1 * (1 - p1)) / control.n + (p2 * (1 - p2)) / variant.n);
  const z = normalQuantile(1 - alpha / 2, 0, 1);
  return { test: 'two_proportion_z', difference, ci: [difference - z * se, difference + z * se], p_value: pValue, statistic, significant: pValue < alpha };
}

/** Welch's unequal-variances t test of the means. */
export function welchTest(control: Summary, variant: Summary, alpha: number): Comparison | null {
  if (control.n < 2 || variant.n < 2) return null;
  const difference = variant.mean - control.mean;
  const v1 = control.variance / control.n;
  const v2 = variant.variance / variant.n;
  const se = Math.sqrt(v1 + v2);
  if (se === 0) {
    return { test: 'welch_t', difference, ci: [difference, difference], p_value: difference === 0 ? 1 : 0, statistic: 0, significant: difference !== 0 };
  }
  const statistic = difference / se;
  const df = (v1 + v2) ** 2 / (v1 ** 2 / (control.n - 1) + v2 ** 2 / (variant.n - 1));
  const pValue = Math.min(1, 2 * tCdf(-Math.abs(statistic), df));
  const t = tQuantile(1 - alpha / 2, df);
  return { test: 'welch_t', difference, ci: [difference - t * se, difference + t * se], p_value: pValue, statistic, df, significant: pValue < alpha };
}

/**
 * Per-group sample size for a two-sided two-proportion test to detect `effect` from a baseline
 * rate at `alpha` with `power` (Fleiss, without continuity correction).
 */
export function requiredSampleSize(baseline: number, effect: number, alpha: number, power = 0.8): number {
  const p1 = Math.min(Math.max(baseline, 0.001), 0.999);
  const p2 = p1 + effect <= 0.999 ? p1 + effect : p1 - effect;
  const pBar = (p1 + p2) / 2;
  const za = normalQuantile(1 - alpha / 2, 0, 1);
  const zb = normalQuantile(power, 0, 1);
  const n = (za * Math.sqrt(2 * pBar * (1 - pBar)) + zb * Math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))) ** 2 / (p2 - p1) ** 2;
  return Math.ceil(n);
}
