// The experiment report against statistics computed here, independently, from the predictions
// themselves: the success-rate difference (a route that fails a share of calls, attempts = 1),
// its confidence interval and two-proportion p-value, and Welch's t test of feedback scores and
// of cost per request (@stdlib/stats-ttest2 on the raw samples).
import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import normalQuantile from '@stdlib/stats-base-dists-normal-quantile';
import ttest2 from '@stdlib/stats-ttest2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, until } from './utils/http.js';
import { startStack, type Stack } from './utils/stack.js';

const ADMIN = { authorization: 'Bearer test-admin-key' };
const N = 160;

describe('experiment report', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({
      route: { concurrency: 16, breaker: { volume_threshold: 10_000 } },
      config: {
        queue: { attempts: 1, lock_duration_ms: 3000, stalled_interval_ms: 1000, backoff_ms: 200 },
        experiments: {
          cmp: { control: 'base', variants: { base: { weight: 1 }, large: { weight: 1, model: 'large' } }, min_sample: 30 },
        },
      },
      extraRoutes: [{ name: 'large', model: 'sim-large', breaker: { volume_threshold: 10_000 } }],
    });
    stack.sim.state.faults.update({ by_model: { 'sim-large': { error_rate: 0.25 } } });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('reports differences, intervals and p-values that match an independent computation', async () => {
    const results = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        request(`${stack.url}/v1/predictions`, {
          body: { signature: 'question -> answer', inputs: { question: `report ${i}` }, experiment: 'cmp', subject: `s${i}` },
          headers: { prefer: 'wait=30' },
        }),
      ),
    );
    const byVariant: Record<string, { ok: number; n: number; scores: number[]; costs: number[] }> = {
      base: { ok: 0, n: 0, scores: [], costs: [] },
      large: { ok: 0, n: 0, scores: [], costs: [] },
    };
    let k = 0;
    for (const { body } of results) {
      const v = byVariant[body.variant]!;
      v.n++;
      if (body.status !== 'succeeded') continue;
      v.ok++;
      v.costs.push(body.cost_usd);
      // Known scores: the large model's answers are rated lower on average.
      const score = Math.round(((body.variant === 'large' ? 0.35 : 0.55) + ((k++ * 37) % 41) / 100) * 100) / 100;
      v.scores.push(score);
      const fb = await request(`${stack.url}/v1/predictions/${body.id}/feedback`, { body: { score } });
      expect(fb.status).toBe(200);
    }
    const { base, large } = byVariant;
    expect(base!.n + large!.n).toBe(N);
    expect(large!.ok).toBeLessThan(large!.n);

    // A second feedback for one prediction, and feedback for a failed one, are refused.
    const someOk = results.find((r) => r.body.status === 'succeeded')!.body.id;
    expect((await request(`${stack.url}/v1/predictions/${someOk}/feedback`, { body: { score: 1 } })).body.error.code).toBe('conflict');
    const failed = results.find((r) => r.body.status === 'failed')!.body.id;
    expect((await request(`${stack.url}/v1/predictions/${failed}/feedback`, { body: { score: 1 } })).body.error.code).toBe('conflict');
    expect((await request(`${stack.url}/v1/predictions/${someOk}/feedback`, { body: { score: 2 } })).body.error.code).toBe('invalid_request');

    // Worker statistics are written as outcomes are observed: wait until every one is in.
    const report = await until(async () => {
      const r = await request(`${stack.url}/admin/experiments/cmp`, { headers: ADMIN });
      const v = r.body.variants as Array<{ requests: number; feedback: { count: number } }>;
      return v.reduce((s, x) => s + x.requests, 0) === N && v.reduce((s, x) => s + x.feedback.count, 0) === base!.ok + large!.ok && r.body;
    });
    const variant = report.variants.find((v: { name: string }) => v.name === 'large');
    const control = report.variants.find((v: { name: string }) => v.name === 'base');
    expect(control).toMatchObject({ role: 'control', requests: base!.n, successes: base!.ok, vs_control: null });
    expect(variant).toMatchObject({ role: 'variant', status: 'active', requests: large!.n, successes: large!.ok });
    expect(variant.latency_ms.p50).toBeLessThanOrEqual(variant.latency_ms.p95);

    // Two-proportion z test, by its textbook formula.
    const p1 = base!.ok / base!.n;
    const p2 = large!.ok / large!.n;
    const pooled = (base!.ok + large!.ok) / (base!.n + large!.n);
    const z = (p2 - p1) / Math.sqrt(pooled * (1 - pooled) * (1 / base!.n + 1 / large!.n));
    const half = normalQuantile(0.975, 0, 1) * Math.sqrt((p1 * (1 - p1)) / base!.n + (p2 * (1 - p2)) / large!.n);
    const rate = variant.vs_control.success_rate;
    expect(rate.difference).toBeCloseTo(p2 - p1, 10);
    expect(rate.statistic).toBeCloseTo(z, 8);
    expect(rate.p_value).toBeCloseTo(2 * (1 - normalCdf(Math.abs(z), 0, 1)), 8);
    expect(rate.ci[0]).toBeCloseTo(p2 - p1 - half, 8);
    expect(rate.ci[1]).toBeCloseTo(p2 - p1 + half, 8);

    // Welch's t tests on the raw samples.
    for (const [field, samples] of [
      ['feedback_score', (v: typeof base) => v!.scores],
      ['cost_per_request_usd', (v: typeof base) => v!.costs],
    ] as const) {
      const expected = ttest2(samples(large), samples(base), { variance: 'unequal', alpha: 0.05 });
      const got = variant.vs_control[field];
      expect(got.test).toBe('welch_t');
      expect(got.statistic).toBeCloseTo(expected.statistic, 6);
      expect(got.p_value).toBeCloseTo(expected.pValue, 6);
      expect(got.df).toBeCloseTo(expected.df, 4);
      expect(got.ci[0]).toBeCloseTo(expected.ci[0]!, 6);
      expect(got.ci[1]).toBeCloseTo(expected.ci[1]!, 6);
    }
    // About 80 predictions a variant cannot call a 5-point difference in success rate.
    expect(report.sample.enough).toBe(false);
    expect(report.sample.required_per_variant).toBeGreaterThan(Math.min(base!.n, large!.n));
    expect(report.sample.verdict).toMatch(/^not enough data/);
  });
});
