// A guardrail pauses a variant whose route fails 30% of its calls (simulator faults by model):
// the variant's subjects are then served by the control, the pause is logged once and counted,
// it shows in the report, and only an operator resumes it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, until } from './utils/http.js';
import { workerMetrics } from './utils/processes.js';
import { startStack, type Stack } from './utils/stack.js';

const ADMIN = { authorization: 'Bearer test-admin-key' };

describe('experiment guardrails', () => {
  let stack: Stack;
  const report = async () => (await request(`${stack.url}/admin/experiments/guard`, { headers: ADMIN })).body;
  const variantOf = (r: any, name: string) => r.variants.find((v: { name: string }) => v.name === name);

  beforeAll(async () => {
    stack = await startStack({
      workers: 2,
      route: { concurrency: 8, breaker: { volume_threshold: 10_000 } },
      extraRoutes: [{ name: 'risky', model: 'sim-large', concurrency: 8, breaker: { volume_threshold: 10_000 } }],
      config: {
        queue: { attempts: 3, lock_duration_ms: 3000, stalled_interval_ms: 1000, backoff_ms: 50 },
        experiments: {
          guard: {
            control: 'control',
            variants: { control: { weight: 1 }, fast_model: { weight: 1, model: 'risky' } },
            guardrails: { min_requests: 30, max_error_rate_increase: 0.1 },
          },
        },
        experiment_store: { refresh_ms: 200 },
      },
    });
    stack.sim.state.faults.update({ by_model: { 'sim-large': { error_rate: 0.3 } } });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('pauses the failing variant, sends its subjects to the control, and resumes only by hand', async () => {
    const predict = (subject: string) =>
      request(`${stack.url}/v1/predictions`, {
        body: { signature: 'question -> answer', inputs: { question: `guard ${subject}` }, experiment: 'guard', subject },
        headers: { prefer: 'wait=30' },
      });
    let round = 0;
    const paused = await until(async () => {
      await Promise.all(Array.from({ length: 20 }, (_, i) => predict(`u${round}-${i}`)));
      round++;
      const r = await report();
      return variantOf(r, 'fast_model').status === 'paused' && r;
    }, 60_000, 10);
    const variant = variantOf(paused, 'fast_model');
    expect(variant.paused).toMatchObject({ reason: 'error_rate' });
    expect(variant.paused.details.error_rate).toBeGreaterThan(0.1);
    expect(variant.failed_calls / variant.calls).toBeGreaterThan(0.15);
    expect(variantOf(paused, 'control')).toMatchObject({ status: 'active', failed_calls: 0 });

    // Logged once, by the one worker whose pause took, and counted there.
    // The pause is in Redis a moment before the worker's log line reaches us through its pipe.
    const pausedLines = () => stack.workers.flatMap((w) => w.lines).filter((l) => l.includes('paused by its guardrail'));
    const lines = await until(async () => pausedLines().length > 0 && pausedLines());
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ experiment: 'guard', variant: 'fast_model', reason: 'error_rate' });
    const counted = await Promise.all(stack.workers.map(async (w) => /dspy_experiment_guardrail_pauses_total\{experiment="guard",variant="fast_model",reason="error_rate"\} 1/.test(await workerMetrics(w))));
    expect(counted.filter(Boolean)).toHaveLength(1);

    // The variant's subjects now get the control.
    const subjects = Array.from({ length: 200 }, (_, i) => `after-${i}`);
    const assigned = await request(`${stack.url}/admin/experiments/guard/assign`, { body: { subjects }, headers: ADMIN });
    const theirs = assigned.body.data.filter((a: { paused_variant: string | null }) => a.paused_variant === 'fast_model');
    expect(theirs.length).toBeGreaterThan(50);
    expect(theirs.every((a: { variant: string }) => a.variant === 'control')).toBe(true);
    await new Promise((r) => setTimeout(r, 250));
    const served = await predict(theirs[0].subject);
    expect(served.body).toMatchObject({ status: 'succeeded', variant: 'control', model: 'sim-small' });
    expect(await (await fetch(`${stack.url}/metrics`)).text()).toMatch(/dspy_experiment_assignments_total\{experiment="guard",variant="fast_model",outcome="paused"\} [1-9]/);

    // Resumed by hand: its subjects come back to it, and its guardrail counts afresh.
    const resumed = await request(`${stack.url}/admin/experiments/guard/variants/fast_model/resume`, { method: 'POST', headers: ADMIN });
    expect(resumed.body).toMatchObject({ variant: 'fast_model', status: 'active' });
    expect((await request(`${stack.url}/admin/experiments/guard/variants/fast_model/resume`, { method: 'POST', headers: ADMIN })).body.error.code).toBe('conflict');
    expect(variantOf(await report(), 'fast_model')).toMatchObject({ status: 'active', paused: null });
    const again = await request(`${stack.url}/admin/experiments/guard/assign`, { body: { subjects: [theirs[0].subject] }, headers: ADMIN });
    expect(again.body.data[0]).toMatchObject({ variant: 'fast_model', paused_variant: null });
  });
});
