// Shadow mode: every control prediction (sample_rate 1) also runs the shadow variant on a slow
// route in the background. The caller never waits for it or sees it; its cost is counted apart
// (ledger tenant "_shadow"); and the report's agreement rates match the simulator's own count of
// the answers it made disagree (a different answer) or vary (the same answer written differently).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, until } from './utils/http.js';
import { startStack, type Stack } from './utils/stack.js';

const ADMIN = { authorization: 'Bearer test-admin-key' };
const N = 40;
const SHADOW_LATENCY_MS = 4000;

describe('shadow mode', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({
      route: { concurrency: 16 },
      extraRoutes: [{ name: 'candidate', model: 'sim-large', concurrency: 16 }],
      config: {
        experiments: {
          shadowed: {
            control: 'control',
            variants: { control: { weight: 1 }, candidate: { weight: 0, model: 'candidate' } },
            shadow: { variant: 'candidate', sample_rate: 1, max_usd_per_day: 10 },
          },
        },
      },
    });
    stack.sim.state.faults.update({
      shared_answers: true,
      by_model: { 'sim-large': { divergence_rate: 0.25, variation_rate: 0.25, latency_ms: SHADOW_LATENCY_MS } },
    });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('never makes the caller wait for or see the shadow, and measures agreement with the control', async () => {
    const results = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        request(`${stack.url}/v1/predictions`, {
          body: { signature: 'question -> answer', inputs: { question: `mirror ${i}` }, experiment: 'shadowed', subject: `s${i}` },
          headers: { prefer: 'wait=20' },
        }),
      ),
    );
    // Every caller got the control's answer before any shadow had answered.
    expect(stack.sim.state.stats.snapshot().by_model['sim-large']?.ok ?? 0).toBe(0);
    for (const { body } of results) {
      expect(body.duration_ms).toBeLessThan(SHADOW_LATENCY_MS);
      expect(body).toMatchObject({ status: 'succeeded', variant: 'control', model: 'sim-small' });
      expect(JSON.stringify(body)).not.toMatch(/_shadow|candidate|sim-large/);
    }
    // A shadow run is nobody's prediction.
    expect((await request(`${stack.url}/v1/predictions/${results[0]!.body.id}_shadow`)).status).toBe(404);

    const report = await until(async () => {
      const r = await request(`${stack.url}/admin/experiments/shadowed`, { headers: ADMIN });
      return r.body.shadow?.compared === N && r.body;
    }, 30_000);
    const large = stack.sim.state.stats.snapshot().by_model['sim-large']!;
    expect(large.ok).toBe(N);
    expect(large.diverged).toBeGreaterThan(0);
    expect(large.varied).toBeGreaterThan(0);
    expect(report.shadow).toMatchObject({ variant: 'candidate', runs: N, errors: 0, capped: false });
    expect(report.shadow.agreement.exact).toBeCloseTo((N - large.diverged - large.varied) / N, 10);
    expect(report.shadow.agreement.normalized).toBeCloseTo((N - large.diverged) / N, 10);
    expect(report.shadow.agreement.fields.answer.exact).toBeCloseTo((N - large.diverged - large.varied) / N, 10);
    // The control's statistics hold only what callers got.
    const control = report.variants.find((v: { name: string }) => v.name === 'control');
    expect(control).toMatchObject({ requests: N, successes: N });
    expect(report.variants.find((v: { name: string }) => v.name === 'candidate')).toMatchObject({ role: 'shadow', requests: 0 });

    // Its cost is its own: in the report, and under the ledger's "_shadow" tenant, not the caller's.
    expect(report.shadow.cost_usd).toBeGreaterThan(0);
    const usage = await request(`${stack.url}/admin/usage?group_by=tenant`, { headers: ADMIN });
    const groups = Object.fromEntries(usage.body.groups.map((g: { key: string; requests: number; cost_usd: number }) => [g.key, g]));
    expect(groups._shadow).toMatchObject({ requests: N });
    expect(groups._shadow.cost_usd).toBeCloseTo(report.shadow.cost_usd, 9);
    expect(groups.default).toMatchObject({ requests: N });
  });

  it('stops shadowing for the day once its cap is spent', async () => {
    const put = await request(`${stack.url}/admin/experiments/shadowed`, {
      method: 'PUT',
      body: {
        control: 'control',
        variants: { control: { weight: 1 }, candidate: { weight: 0, model: 'candidate' } },
        shadow: { variant: 'candidate', sample_rate: 1, max_usd_per_day: 0.000001 },
      },
      headers: ADMIN,
    });
    expect(put.status).toBe(200);
    // The shadow runs above spent more than this cap.
    await until(async () => (await request(`${stack.url}/admin/experiments/shadowed`, { headers: ADMIN })).body.shadow?.capped);
    await new Promise((r) => setTimeout(r, 1100));
    const before = stack.sim.state.stats.snapshot().by_model['sim-large']!.requests;
    await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        request(`${stack.url}/v1/predictions`, {
          body: { signature: 'question -> answer', inputs: { question: `capped ${i}` }, experiment: 'shadowed' },
          headers: { prefer: 'wait=20' },
        }),
      ),
    );
    await new Promise((r) => setTimeout(r, SHADOW_LATENCY_MS + 500));
    expect(stack.sim.state.stats.snapshot().by_model['sim-large']!.requests).toBe(before);
  });
});
