// The circuit breaker across real worker processes: a full LM outage in the middle of 200
// jobs loses and fails nothing, one worker's open breaker stops the others, a manual reset
// closes it, a job with a fallback completes degraded, and a running job can be cancelled.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { request, until } from './utils/http.js';
import { ADMIN, breakerState, queueCounts, sleep, statuses, submitMany } from './utils/resilience.js';
import { workerMetrics } from './utils/processes.js';
import { startStack, type Stack } from './utils/stack.js';

describe('a 10-second LM outage in the middle of 200 jobs', () => {
  const BREAKER = { volume_threshold: 5, error_threshold_percentage: 50, reset_timeout_ms: 1000, rolling_window_ms: 1000 };
  const CONCURRENCY = 8;
  const WORKERS = 2;
  const OUTAGE_MS = 10_000;
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ workers: WORKERS, route: { breaker: BREAKER, concurrency: CONCURRENCY } });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('fails none, loses none, and calls the LM only up to the breaker threshold plus probes', async () => {
    const first = await submitMany(stack, 100, 'before');
    await until(async () => (await queueCounts(stack)).completed === 100, 30_000);
    // Let the first half's successes leave the breaker's rolling window.
    await sleep(BREAKER.rolling_window_ms + 200);

    stack.sim.state.faults.update({ outage: true });
    const outageStart = Date.now();
    const callsBefore = stack.sim.state.stats.snapshot().requests;
    const second = await submitMany(stack, 100, 'during');
    await until(async () => (await breakerState(stack)) !== 'closed', 10_000);
    await sleep(OUTAGE_MS - (Date.now() - outageStart));
    const callsDuring = stack.sim.state.stats.snapshot().requests - callsBefore;
    stack.sim.state.faults.update({ outage: false });

    await until(async () => {
      const counts = await queueCounts(stack);
      return counts.completed! + counts.failed! === 200 ? counts : undefined;
    }, 30_000);
    const counts = await queueCounts(stack);
    expect(counts.failed).toBe(0);
    expect(counts.completed).toBe(200);
    expect(await statuses(stack, [...first, ...second])).toEqual({ succeeded: 200 });

    // Each worker trips after volume_threshold failures (plus what it had in flight), every
    // worker stops once one has opened it, then one probe per reset period cluster-wide.
    const probes = Math.ceil(OUTAGE_MS / BREAKER.reset_timeout_ms) + 1;
    const bound = WORKERS * (BREAKER.volume_threshold + CONCURRENCY) + probes;
    console.log(`LM calls during the ${OUTAGE_MS} ms outage: ${callsDuring} (bound ${bound})`);
    expect(callsDuring).toBeGreaterThanOrEqual(BREAKER.volume_threshold);
    expect(callsDuring).toBeLessThanOrEqual(bound);
    expect(await breakerState(stack)).toBe('closed');

    // Requeued jobs (DelayedError) leave the active-requests gauge where it was: back at 0.
    for (const worker of stack.workers) {
      const text = await workerMetrics(worker);
      expect(text).toMatch(/^dspy_active_requests 0$/m);
    }
  });
});

describe('the breaker shared by workers', () => {
  let stack: Stack;
  beforeAll(async () => {
    // A long reset timeout: no probe happens during the test, only the manual reset closes it.
    stack = await startStack({
      workers: 1,
      route: { breaker: { volume_threshold: 3, error_threshold_percentage: 50, reset_timeout_ms: 120_000, rolling_window_ms: 10_000 } },
    });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  afterEach(() => {
    // A failed assertion must not leave the next test in an outage.
    stack.sim.state.faults.update({ outage: false, latency_ms: 0 });
  });

  it("one worker's open breaker stops the other's calls, a fallback answers degraded, and a manual reset closes it", async () => {
    stack.sim.state.faults.update({ outage: true });
    const first = await submitMany(stack, 5, 'trip');
    await until(async () => (await breakerState(stack)) === 'open', 15_000);
    const callsAtOpen = stack.sim.state.stats.snapshot().requests;
    expect(callsAtOpen).toBeGreaterThanOrEqual(3);

    // A second worker that never saw a failure takes over (the first stops, so the new jobs
    // can only go to the second): it learns of the open breaker from Redis and calls nothing.
    const second = await stack.startWorker();
    await stack.workers[0]!.stop();
    const more = await submitMany(stack, 10, 'blocked');
    await until(async () => second.lines.some((l) => l.includes('circuit breaker open') && l.includes('"source":"cluster"')), 15_000);
    await sleep(1000);
    expect(stack.sim.state.stats.snapshot().requests).toBe(callsAtOpen);

    // With a fallback, a prediction does not wait for the breaker.
    const degraded = await request(`${stack.url}/v1/predictions`, {
      body: { signature: 'question -> answer', inputs: { question: 'during the outage' }, fallback: { answer: 'try again later' } },
      headers: { prefer: 'wait=15' },
    });
    expect(degraded.status).toBe(200);
    expect(degraded.body).toMatchObject({ status: 'succeeded', degraded: true, outputs: { answer: 'try again later' } });
    expect(stack.sim.state.stats.snapshot().requests).toBe(callsAtOpen);

    const unauthorized = await request(`${stack.url}/admin/breakers/default/reset`, { method: 'POST' });
    expect(unauthorized.status).toBe(401);
    const unknown = await request(`${stack.url}/admin/breakers/nope/reset`, { method: 'POST', headers: ADMIN });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('not_found');

    stack.sim.state.faults.update({ outage: false });
    const reset = await request(`${stack.url}/admin/breakers/default/reset`, { method: 'POST', headers: ADMIN });
    expect(reset.status).toBe(200);
    expect(reset.body.breaker.state).toBe('closed');
    expect(await breakerState(stack)).toBe('closed');
    // The waiting jobs run at once (their delay was the 120 s reset timeout).
    await until(async () => (await queueCounts(stack)).completed === 16, 20_000);
    expect(await statuses(stack, [...first, ...more])).toEqual({ succeeded: 15 });
    expect((await queueCounts(stack)).failed).toBe(0);
  });

  it('cancelling a running prediction aborts its LM call', async () => {
    stack.sim.state.faults.update({ latency_ms: 30_000 });
    try {
      const created = await request(`${stack.url}/v1/predictions`, {
        body: { signature: 'question -> answer', inputs: { question: 'cancel me while I run' } },
      });
      await until(async () => (await request(`${stack.url}/v1/predictions/${created.body.id}`)).body.status === 'running');
      await until(async () => stack.sim.state.stats.snapshot().in_flight >= 1);
      const aborted = stack.sim.state.stats.snapshot().outcomes.aborted;
      const cancelled = await request(`${stack.url}/v1/predictions/${created.body.id}`, { method: 'DELETE' });
      expect(cancelled.status).toBe(200);
      expect(cancelled.body.status).toBe('cancelled');
      expect(cancelled.body.error.code).toBe('cancelled');
      await until(async () => stack.sim.state.stats.snapshot().outcomes.aborted > aborted, 5000);
      const read = await request(`${stack.url}/v1/predictions/${created.body.id}`);
      expect(read.body.status).toBe('cancelled');
    } finally {
      stack.sim.state.faults.update({ latency_ms: 0 });
    }
  });
});
