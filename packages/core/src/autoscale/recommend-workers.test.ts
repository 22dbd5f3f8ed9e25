import { describe, expect, it } from 'vitest';
import { recommendWorkers, routeCap, type RouteLoad } from './recommend-workers.js';
import { sampleCalls } from './route-loads.js';

function load(overrides: Partial<RouteLoad> = {}): RouteLoad {
  return {
    route: 'default',
    concurrency: 8,
    backlog: 0,
    active: 0,
    oldestWaitingS: 0,
    breaker: 'closed',
    pausedMs: 0,
    limits: {},
    defaultTokensPerCall: 1024,
    ...overrides,
  };
}

describe('recommendWorkers', () => {
  it('asks for no worker when nothing runs or waits', () => {
    expect(recommendWorkers([load()])).toMatchObject({ workers: 0, reason: 'no job is running or ready' });
  });

  it('fills every slot with the running and ready jobs', () => {
    expect(recommendWorkers([load({ backlog: 10, active: 8 })]).workers).toBe(3); // 18 jobs / 8 per worker
    expect(recommendWorkers([load({ backlog: 0, active: 16 })]).workers).toBe(2);
  });

  it('leaves headroom at a lower target utilisation (the scale-down side of the hysteresis)', () => {
    expect(recommendWorkers([load({ active: 16 })], { utilisation: 0.7 }).workers).toBe(3); // 16 / 5.6
  });

  it('takes the route that needs the most workers, since every worker runs every route', () => {
    const rec = recommendWorkers([load({ route: 'a', backlog: 4 }), load({ route: 'b', backlog: 40, concurrency: 4 })]);
    expect(rec.workers).toBe(10);
    expect(rec.reason).toBe('route b: 40 ready + 0 running jobs want 10 workers (4 jobs each)');
  });

  it('never goes past what an rpm limit can use (Little: calls per second x seconds per call)', () => {
    // 360 rpm = 6 calls/s, 1 s per call: 6 calls in flight fill 2 workers of 4 slots.
    const rec = recommendWorkers([load({ concurrency: 4, backlog: 2000, limits: { rpm: 360 }, lmSeconds: 1 })]);
    expect(rec.workers).toBe(2);
    expect(rec.routes[0]).toMatchObject({ wanted: 500, cap: 2, limited_by: 'rpm' });
    expect(rec.reason).toContain('its rpm limit (360/min at 1.00 s per call) can use 2');
    // Slower calls let the same limit keep more in flight.
    expect(recommendWorkers([load({ concurrency: 4, backlog: 2000, limits: { rpm: 360 }, lmSeconds: 3 })]).workers).toBe(5);
  });

  it('caps by tpm with the tokens of recent calls (or max_tokens before any)', () => {
    // 60000 tpm / 500 tokens = 120 calls/min = 2/s, 2 s each: 4 in flight, 1 worker of 8.
    expect(routeCap(load({ limits: { tpm: 60_000 }, tokensPerCall: 500, lmSeconds: 2 }))).toEqual({ cap: 1, limitedBy: 'tpm' });
    expect(routeCap(load({ concurrency: 1, limits: { tpm: 61_440 } }))).toEqual({ cap: 1, limitedBy: 'tpm' }); // 1 call/s of 1024
    // The tighter of the two limits wins.
    expect(routeCap(load({ concurrency: 1, limits: { rpm: 600, tpm: 6_000_000 }, tokensPerCall: 1000, lmSeconds: 1 }))).toEqual({ cap: 10, limitedBy: 'rpm' });
  });

  it('asks nothing for a route whose breaker is open or that an LM 429 pauses, one for a half-open probe', () => {
    expect(recommendWorkers([load({ backlog: 100, breaker: 'open' })]).routes[0]).toMatchObject({ workers: 0, limited_by: 'breaker_open' });
    expect(recommendWorkers([load({ backlog: 100, pausedMs: 900 })]).routes[0]).toMatchObject({ workers: 0, limited_by: 'paused' });
    expect(recommendWorkers([load({ backlog: 100, breaker: 'half_open' })]).workers).toBe(1);
    // Another route's demand still counts.
    expect(recommendWorkers([load({ route: 'down', backlog: 100, breaker: 'open' }), load({ route: 'up', backlog: 20 })]).workers).toBe(3);
  });

  it('reports utilisation when the number of workers is known', () => {
    expect(recommendWorkers([load({ active: 12 })], { workers: 2 }).routes[0]!.utilisation).toBe(0.75);
  });
});

describe('sampleCalls', () => {
  it('averages the LM time and tokens of computed results only', () => {
    const computed = (lm_ms: number, total_tokens: number) => ({ returnvalue: { cache: { hit: false }, timings: { lm_ms }, usage: { total_tokens } } });
    const jobs = [
      computed(1000, 100),
      computed(3000, 300),
      { returnvalue: { cache: { hit: true }, timings: { lm_ms: 0 }, usage: { total_tokens: 50 } } },
      { returnvalue: { degraded: true, timings: { lm_ms: 0 } } },
      undefined,
    ];
    expect(sampleCalls(jobs)).toEqual({ lmSeconds: 2, tokensPerCall: 200 });
    expect(sampleCalls([])).toEqual({});
  });
});
