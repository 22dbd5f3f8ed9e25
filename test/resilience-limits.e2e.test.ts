// Rate limits and timeouts across real worker processes: a 429 storm fails nothing and the
// LM never sees more than the route's rate; a hanging LM call times out and the job is
// retried; tenants over their ingest limit get 429 with Retry-After.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, until } from './utils/http.js';
import { queueCounts, statuses, submitMany } from './utils/resilience.js';
import { workerMetrics } from './utils/processes.js';
import { startStack, type Stack } from './utils/stack.js';

describe('a 429 storm', () => {
  const RPM = 600;
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ workers: 2, route: { limits: { rpm: RPM } } });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('fails nothing, and the LM never sees more than the route allows', async () => {
    stack.sim.state.faults.update({ rate_limit_rate: 0.5, retry_after_s: 0.2, seed: 7 });
    const ids = await submitMany(stack, 40, 'storm');
    await until(async () => {
      const counts = await queueCounts(stack);
      return counts.completed! + counts.failed! === 40;
    }, 45_000);
    const sim = stack.sim.state.stats.snapshot();
    expect((await queueCounts(stack)).failed).toBe(0);
    expect(await statuses(stack, ids)).toEqual({ succeeded: 40 });
    expect(sim.outcomes.rate_limited).toBeGreaterThan(0);
    console.log(`429 storm: ${sim.requests} LM calls, ${sim.outcomes.rate_limited} answered 429, max ${sim.max_rps_1s} in 1 s`);
    // The route's RPM, and its per-second share ceil(rpm / 60) = 10, which two adjacent
    // fixed windows of rate-limiter-flexible can at most double inside a sliding second of
    // admissions. The simulator counts arrivals, which trail admission by the worker's own
    // delay (hundreds of ms on a loaded 2-core machine), so a third window's first calls can
    // land in the same sliding second: allow two of those. Without the per-second limit, two
    // workers of 8 slots against the fast simulator would send all 40 within about a second.
    expect(sim.max_rps_1s).toBeLessThanOrEqual(RPM);
    expect(sim.max_rps_1s).toBeLessThanOrEqual(2 * Math.ceil(RPM / 60) + 2);
  });
});

describe('timeouts and ingest limits', () => {
  let stack: Stack;
  const ACME = { authorization: 'Bearer acme-key' };
  beforeAll(async () => {
    stack = await startStack({
      workers: 1,
      route: { timeout_ms: 1000 },
      config: {
        tenants: [
          { name: 'acme', api_key_env: 'ACME_KEY' },
          { name: 'tiny', api_key_env: 'TINY_KEY', rpm: 2 },
        ],
      },
      env: { ACME_KEY: 'acme-key', TINY_KEY: 'tiny-key' },
    });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('a hanging LM call times out, and the retried job succeeds', async () => {
    stack.sim.state.faults.update({ hang_rate: 1 });
    const created = await request(`${stack.url}/v1/predictions`, {
      body: { signature: 'question -> answer', inputs: { question: 'will you hang?' } },
      headers: ACME,
    });
    await until(async () => stack.sim.state.stats.snapshot().requests >= 1);
    stack.sim.state.faults.update({ hang_rate: 0 });
    const done = await until(async () => {
      const res = await request(`${stack.url}/v1/predictions/${created.body.id}`, { headers: ACME });
      return res.body.status === 'succeeded' || res.body.status === 'failed' ? res.body : undefined;
    }, 20_000);
    expect(done.error).toBeNull();
    expect(done.status).toBe('succeeded');
    const sim = stack.sim.state.stats.snapshot();
    expect(sim.requests).toBe(2);
    expect(sim.outcomes.ok).toBe(1);
    await until(async () => stack.workers[0]!.lines.some((l) => l.includes('"outcome":"timeout"') || l.includes('lm_timeout')));
    // The timed-out attempt was retried, not a failure: alerts on status="failed" stay quiet.
    const metrics = await workerMetrics(stack.workers[0]!);
    expect(metrics).toMatch(/^dspy_predictions_total\{model="sim-small",status="retried"\} 1$/m);
    expect(metrics).not.toMatch(/^dspy_predictions_total\{model="sim-small",status="failed"\}/m);
  });

  it('answers 429 rate_limited with Retry-After to a tenant over its ingest limit, and only to it', async () => {
    const tiny = { authorization: 'Bearer tiny-key' };
    // Distinct questions: a cache hit would be answered 200 (but counts all the same).
    const body = (i: number) => ({ signature: 'question -> answer', inputs: { question: `tiny tenant ${i}` } });
    const results = [];
    for (let i = 0; i < 3; i += 1) results.push(await request(`${stack.url}/v1/predictions`, { body: body(i), headers: tiny }));
    expect(results.map((r) => r.status)).toEqual([202, 202, 429]);
    expect(results[2]!.body.error.code).toBe('rate_limited');
    expect(Number(results[2]!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(results[2]!.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    const other = await request(`${stack.url}/v1/predictions`, { body: body(3), headers: ACME });
    expect(other.status).toBe(202);
  });
});
