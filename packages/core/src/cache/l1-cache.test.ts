// L1 is bounded by entries, by bytes and by time.
import { describe, expect, it } from 'vitest';
import { createL1, type L1Value } from './l1-cache.js';

const entry = {
  outputs: { answer: 'x' },
  usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
  finish_reason: 'stop',
  model: 'm',
  route: 'r',
  program_version: null,
  computed_at: 0,
};
const value = (size: number): L1Value => ({ entry, size, via: 'computed', storable: true });
const noFetch = async (): Promise<L1Value> => value(1);

describe('L1', () => {
  it('keeps at most max_entries', () => {
    const l1 = createL1({ maxEntries: 3, maxBytes: 1e6, ttlMs: 60_000, maxEntryBytes: 1e6 }, noFetch);
    for (let i = 0; i < 10; i++) l1.set(`k${i}`, value(10));
    expect(l1.size).toBe(3);
    expect(l1.has('k9')).toBe(true);
    expect(l1.has('k0')).toBe(false);
  });

  it('keeps at most max_bytes, and refuses an entry larger than the value bound', () => {
    const l1 = createL1({ maxEntries: 1000, maxBytes: 1000, ttlMs: 60_000, maxEntryBytes: 400 }, noFetch);
    for (let i = 0; i < 10; i++) l1.set(`k${i}`, value(300));
    expect(l1.calculatedSize).toBeLessThanOrEqual(1000);
    expect(l1.size).toBe(3);
    l1.set('huge', value(500));
    expect(l1.has('huge')).toBe(false);
  });

  it('expires entries after ttl_ms (fake clock)', () => {
    let now = 1000;
    const l1 = createL1({ maxEntries: 10, maxBytes: 1e6, ttlMs: 5000, maxEntryBytes: 1e6, perf: { now: () => now } }, noFetch);
    l1.set('k', value(1));
    now += 4999;
    expect(l1.get('k')).toBeDefined();
    now += 2;
    expect(l1.get('k')).toBeUndefined();
  });

  it('coalesces concurrent misses in one process (one fetch)', async () => {
    let fetches = 0;
    const l1 = createL1({ maxEntries: 10, maxBytes: 1e6, ttlMs: 5000, maxEntryBytes: 1e6 }, async () => {
      fetches++;
      await new Promise((r) => setTimeout(r, 20));
      return value(1);
    });
    await Promise.all(Array.from({ length: 20 }, () => l1.fetch('same')));
    expect(fetches).toBe(1);
  });
});
