import { describe, expect, it } from 'vitest';
import { CacheSavings, type CacheHitSaving } from './cache-savings.js';

function recorder() {
  const records: Array<CacheHitSaving & { hits?: number }> = [];
  return { records, recordCacheHit: async (hit: CacheHitSaving & { hits?: number }) => (records.push(hit), 0) };
}

const hit = (over: Partial<CacheHitSaving> = {}): CacheHitSaving => ({
  tenant: 'acme',
  model: 'm',
  route: 'r',
  variant: null,
  usage: { prompt_tokens: 10, completion_tokens: 5 },
  ...over,
});

describe('CacheSavings', () => {
  it('writes one summed record per tenant, model, route and variant, and nothing before a flush', async () => {
    const cost = recorder();
    const savings = new CacheSavings(cost, 60_000);
    savings.add(hit());
    savings.add(hit({ usage: { prompt_tokens: 1, completion_tokens: 2, cached_tokens: 3 } }));
    savings.add(hit({ variant: 'b' }));
    savings.add(hit({ tenant: 'other' }));
    expect(cost.records).toEqual([]);
    await savings.close();
    expect(cost.records).toHaveLength(3);
    expect(cost.records.find((r) => r.tenant === 'acme' && r.variant === null)).toMatchObject({
      hits: 2,
      usage: { prompt_tokens: 11, completion_tokens: 7, cached_tokens: 3 },
    });
    expect(cost.records.find((r) => r.variant === 'b')).toMatchObject({ hits: 1, usage: { prompt_tokens: 10 } });
  });

  it('flushes on its interval, each hit once', async () => {
    const cost = recorder();
    const savings = new CacheSavings(cost, 20);
    savings.add(hit());
    await expect.poll(() => cost.records.length).toBe(1);
    savings.add(hit());
    await savings.close();
    expect(cost.records.map((r) => r.hits)).toEqual([1, 1]);
  });
});
