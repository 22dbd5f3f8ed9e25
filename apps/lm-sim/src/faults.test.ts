// Protects reproducible fault rolls: tests elsewhere rely on a seed giving the same sequence.
import { describe, expect, it } from 'vitest';
import { DEFAULT_FAULTS, FaultInjector } from './faults.js';

const rolls = (injector: FaultInjector, count: number) => Array.from({ length: count }, () => injector.roll());

describe('FaultInjector', () => {
  it('never rolls a fault when every rate is 0 and always when a rate is 1', () => {
    const injector = new FaultInjector(DEFAULT_FAULTS);
    expect(new Set(rolls(injector, 200))).toEqual(new Set(['none']));
    injector.update({ hang_rate: 1 });
    expect(new Set(rolls(injector, 50))).toEqual(new Set(['hang']));
  });

  it('mixes outcomes near their rates and repeats them after a reset', () => {
    const injector = new FaultInjector({ ...DEFAULT_FAULTS, seed: 99, rate_limit_rate: 0.2, error_rate: 0.3 });
    const first = rolls(injector, 1_000);
    const share = (kind: string) => first.filter((r) => r === kind).length / first.length;
    expect(share('rate_limited')).toBeGreaterThan(0.12);
    expect(share('rate_limited')).toBeLessThan(0.28);
    expect(share('error')).toBeGreaterThan(0.2);
    expect(share('error')).toBeLessThan(0.4);
    injector.reset();
    expect(rolls(injector, 1_000)).toEqual(first);
  });

  it('re-seeds when a patch carries a seed', () => {
    const injector = new FaultInjector({ ...DEFAULT_FAULTS, error_rate: 0.5 });
    injector.update({ seed: 5 });
    const first = rolls(injector, 20);
    injector.update({ seed: 5 });
    expect(rolls(injector, 20)).toEqual(first);
  });
});
