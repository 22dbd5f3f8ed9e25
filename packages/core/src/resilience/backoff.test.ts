import { describe, expect, it } from 'vitest';
import { withJitter } from './backoff.js';
import { estimateCallTokens } from './token-estimate.js';

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

describe('estimateCallTokens', () => {
  it('is the prompt (about 4 characters a token, plus framing) plus max_tokens', () => {
    const messages = [
      { role: 'system' as const, content: 'x'.repeat(400) },
      { role: 'user' as const, content: 'y'.repeat(40) },
    ];
    expect(estimateCallTokens(messages, 256)).toBe(3 + 4 + 100 + 4 + 10 + 256);
    expect(estimateCallTokens([], 10)).toBe(13);
  });
});
