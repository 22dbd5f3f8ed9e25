// Integer cost arithmetic and the price table: what every ledger entry and budget relies on.
import { describe, expect, it } from 'vitest';
import { PredictqError } from '../errors/index.js';
import { costConfigIssues } from './cost-config-issues.js';
import { DEFAULT_PRICES, PriceTable } from './prices.js';
import { costMicros, microsToUsd, usdToMicros, worstCaseMicros } from './usage-cost.js';

describe('costMicros', () => {
  const table = new PriceTable();
  const mini = table.lookup('gpt-4o-mini')!;

  it('prices prompt, cached prompt and completion tokens separately, in integer micro-dollars', () => {
    // 1000 prompt (200 of them cached) + 500 completion at 0.15 / 0.075 / 0.60 USD per 1M tokens
    // = 800*0.15 + 200*0.075 + 500*0.6 = 120 + 15 + 300 = 435 micro-dollars.
    expect(costMicros(mini, { prompt_tokens: 1000, cached_tokens: 200, completion_tokens: 500 })).toBe(435);
    expect(costMicros(mini, { prompt_tokens: 1000, completion_tokens: 500 })).toBe(450);
  });

  it('rounds half up once per call, and the worst case rounds up', () => {
    // 7 prompt tokens at 0.15 = 1.05 micro-dollars; 10 at 0.15 = 1.5.
    expect(costMicros(mini, { prompt_tokens: 7, completion_tokens: 0 })).toBe(1);
    expect(costMicros(mini, { prompt_tokens: 10, completion_tokens: 0 })).toBe(2);
    expect(worstCaseMicros(mini, 7, 0)).toBe(2);
  });

  it('adds up a million small calls with no drift', () => {
    let micros = 0;
    for (let i = 0; i < 1_000_000; i++) micros += costMicros(mini, { prompt_tokens: 100, completion_tokens: 50 }); // 15 + 30
    expect(micros).toBe(45_000_000);
    expect(microsToUsd(micros)).toBe(45);
    expect(usdToMicros(0.1 + 0.2)).toBe(300_000);
  });

  it('stays exact past 2^53 pico-dollars', () => {
    const dear = new PriceTable({ dear: { prompt: 600, completion: 600 } }).lookup('dear')!;
    expect(costMicros(dear, { prompt_tokens: 20_000_000, completion_tokens: 0 })).toBe(12_000_000_000);
  });
});

describe('PriceTable', () => {
  it('ships non-zero prices for the simulator models', () => {
    expect(DEFAULT_PRICES['sim-small']!.prompt).toBeGreaterThan(0);
    expect(DEFAULT_PRICES['sim-large']!.completion).toBeGreaterThan(0);
  });

  it('lets the config override a default and add a model; cached defaults to the prompt price', () => {
    const table = new PriceTable({ 'sim-small': { prompt: 1, completion: 2 }, mine: { prompt: 3, completion: 4, cached_prompt: 1 } });
    expect(table.lookup('sim-small')).toEqual({ prompt: 1_000_000, completion: 2_000_000, cachedPrompt: 1_000_000 });
    expect(table.lookup('mine')?.cachedPrompt).toBe(1_000_000);
  });

  it('prices a dated snapshot like its base model', () => {
    expect(new PriceTable().lookup('gpt-4o-mini-2024-07-18')).toEqual(new PriceTable().lookup('gpt-4o-mini'));
  });

  it('charges an unknown model 0, or fails with config_invalid, as configured', () => {
    expect(new PriceTable({}, 'zero').priceOf('mystery')).toEqual({ price: { prompt: 0, completion: 0, cachedPrompt: 0 }, known: false });
    const fail = () => new PriceTable({}, 'fail').priceOf('mystery');
    expect(fail).toThrow(PredictqError);
    try {
      fail();
    } catch (err) {
      expect((err as PredictqError).code).toBe('config_invalid');
    }
  });
});

describe('costConfigIssues', () => {
  const base = { routes: [{ model: 'mystery' }], tenants: [], prices: {}, unknown_model_price: 'zero' as const, budgets: { tenants: {} } };

  it('names a route whose model has no price when unknown_model_price is "fail"', () => {
    expect(costConfigIssues(base)).toEqual([]);
    expect(costConfigIssues({ ...base, unknown_model_price: 'fail' }).map((i) => i.path)).toEqual([['routes', 0, 'model']]);
    expect(costConfigIssues({ ...base, unknown_model_price: 'fail', prices: { mystery: { prompt: 1, completion: 1 } } })).toEqual([]);
  });

  it('accepts a budget for tenant "default" only when no tenants are configured', () => {
    const budget = { daily_usd: 1 };
    expect(costConfigIssues({ ...base, budgets: { tenants: { default: budget } } })).toEqual([]);
    expect(costConfigIssues({ ...base, budgets: { tenants: { acme: budget } } })).toHaveLength(1);
    expect(costConfigIssues({ ...base, tenants: [{ name: 'acme' }], budgets: { tenants: { acme: budget } } })).toEqual([]);
    expect(costConfigIssues({ ...base, budgets: { tenants: { default: {} } } })).toHaveLength(1);
  });
});
