import { describe, expect, it } from 'vitest';
import { withJitter } from './backoff.js';

describe('withJitter', () => {
  it('adds up to 20% (at least 50 ms) on top, never less than the wait itself', () => {
    expect(withJitter(1000, 0.2, 50, () => 0)).toBe(1000);
    expect(withJitter(1000, 0.2, 50, () => 0.999)).toBe(1200);
    expect(withJitter(0, 0.2, 50, () => 0.5)).toBe(25);
    for (let i = 0; i < 100; i += 1) {
      const ms = withJitter(500);
      expect(ms).toBeGreaterThanOrEqual(500);
      expect(ms).toBeLessThanOrEqual(600);
    }
  });
});
