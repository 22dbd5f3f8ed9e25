// Protects the rate window (fixed memory, 1 s sliding window) and the per-model cap.
import { describe, expect, it } from 'vitest';
import { MAX_TRACKED_MODELS, OTHER_MODELS, SimStats } from './stats.js';

function fakeClock(start = 10_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('SimStats', () => {
  it('reports the busiest 1 s sliding window, not calendar seconds', () => {
    const clock = fakeClock(10_500);
    const stats = new SimStats(clock);
    for (let i = 0; i < 3; i += 1) stats.received(); // t = 10.5 s
    clock.advance(600);
    for (let i = 0; i < 4; i += 1) stats.received(); // t = 11.1 s, other calendar second, same window
    expect(stats.snapshot().max_rps_1s).toBe(7);
    expect(stats.snapshot().rps_1s).toBe(7);

    clock.advance(1_000);
    stats.received();
    expect(stats.snapshot().rps_1s).toBe(1);
    expect(stats.snapshot().max_rps_1s).toBe(7);

    clock.advance(3_600_000);
    expect(stats.snapshot().rps_1s).toBe(0);
  });

  it('keeps counting in_flight across a reset', () => {
    const stats = new SimStats(fakeClock());
    stats.received();
    stats.reset();
    expect(stats.snapshot()).toMatchObject({ requests: 0, in_flight: 1 });
    stats.left();
    expect(stats.snapshot().in_flight).toBe(0);
  });

  it('caps the number of models it tracks', () => {
    const stats = new SimStats(fakeClock());
    for (let i = 0; i < MAX_TRACKED_MODELS + 50; i += 1) stats.model(`model-${i}`);
    const byModel = stats.snapshot().by_model;
    expect(Object.keys(byModel)).toHaveLength(MAX_TRACKED_MODELS + 1);
    expect(byModel[OTHER_MODELS]?.requests).toBe(50);
  });
});
