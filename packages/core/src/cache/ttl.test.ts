import { describe, expect, it } from 'vitest';
import { ttlWithJitterMs } from './ttl.js';

describe('ttlWithJitterMs', () => {
  it('stays within [ttl, ttl * (1 + jitter)]', () => {
    expect(ttlWithJitterMs(100, 0.1, () => 0)).toBe(100_000);
    expect(ttlWithJitterMs(100, 0.1, () => 0.999999)).toBeLessThanOrEqual(110_000);
    expect(ttlWithJitterMs(100, 0.1, () => 0.5)).toBe(105_000);
    for (let i = 0; i < 1000; i++) {
      const ms = ttlWithJitterMs(60, 0.25);
      expect(ms).toBeGreaterThanOrEqual(60_000);
      expect(ms).toBeLessThanOrEqual(75_000);
    }
  });

  it('spreads values (jitter is not a constant) and adds none when jitter is 0', () => {
    const seen = new Set(Array.from({ length: 50 }, () => ttlWithJitterMs(3600, 0.1)));
    expect(seen.size).toBeGreaterThan(40);
    expect(ttlWithJitterMs(10, 0, () => 0.9)).toBe(10_000);
  });
});
