// Budget reservations against a real Redis: atomic across connections, settled both ways,
// released on failure, reclaimed from dead workers, and rolled over at UTC midnight.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';

declare module 'vitest' {
  // Provided by test/utils/global-setup.ts (a private redis-server for the whole run).
  export interface ProvidedContext {
    redisUrl: string;
  }
}
import { ConfigSchema, type Config } from '../config/index.js';
import { Budgets, type BudgetHold } from './budgets.js';

const NOON = Date.UTC(2025, 0, 31, 12); // the last day of January
const clock = { t: NOON, now: () => clock.t };

function configWith(keyPrefix: string, budgets: unknown): Config {
  return ConfigSchema.parse({ key_prefix: keyPrefix, routes: [{ name: 'r', model: 'sim-small', base_url: 'http://127.0.0.1:1/v1' }], budgets });
}

describe('Budgets (real Redis)', () => {
  let redis: Redis;
  let other: Redis;
  let prefix: string;
  beforeAll(() => {
    redis = new Redis(inject('redisUrl'));
    other = new Redis(inject('redisUrl'));
  });
  afterEach(async () => {
    clock.t = NOON;
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
  });
  afterAll(async () => {
    await redis.quit();
    await other.quit();
  });

  function budgets(settings: unknown, connection: Redis = redis): Budgets {
    return new Budgets({ redis: connection, config: configWith(prefix, settings), clock });
  }
  const state = async (b: Budgets) => Object.fromEntries((await b.snapshot()).map((s) => [`${s.budget}/${s.window}`, s]));
  const reserved = (outcome: Awaited<ReturnType<Budgets['reserve']>>): BudgetHold => {
    if (outcome.status !== 'reserved') throw new Error(`expected a reservation, got ${outcome.status}`);
    return outcome.hold;
  };

  it('settles to the real cost in both directions and releases a failed call entirely', async () => {
    prefix = `t${randomUUID().slice(0, 8)}`;
    const b = budgets({ global: { daily_usd: 0.01 } }); // 10 000 micro-dollars
    // Estimate too high: the difference goes back.
    await b.settle(reserved(await b.reserve('a', 'default', 1000, 60_000)), 400);
    expect((await state(b))['global/daily']).toMatchObject({ spentMicros: 400, reservedMicros: 0 });
    // Estimate too low (e.g. a tokenizer that counts more): the real cost is what is recorded.
    await b.settle(reserved(await b.reserve('b', 'default', 100, 60_000)), 250);
    expect((await state(b))['global/daily']).toMatchObject({ spentMicros: 650, reservedMicros: 0 });
    // A failed call spends nothing.
    const hold = reserved(await b.reserve('c', 'default', 3000, 60_000));
    expect((await state(b))['global/daily']).toMatchObject({ spentMicros: 650, reservedMicros: 3000 });
    await b.release(hold);
    expect((await state(b))['global/daily']).toMatchObject({ spentMicros: 650, reservedMicros: 0 });
  });

  it('counts a reservation run twice (a resent command whose reply was lost) once', async () => {
    prefix = `t${randomUUID().slice(0, 8)}`;
    const b = budgets({ global: { daily_usd: 0.01 } });
    const hold = reserved(await b.reserve('a', 'default', 1000, 60_000));
    reserved(await b.reserve('a', 'default', 1000, 60_000));
    expect((await state(b))['global/daily']).toMatchObject({ reservedMicros: 1000 });
    await b.settle(hold, 400);
    expect((await state(b))['global/daily']).toMatchObject({ spentMicros: 400, reservedMicros: 0 });
  });

  it('counts a settlement retried after a lost reply once, with a budget or none, and keeps no mark of it for long', async () => {
    prefix = `t${randomUUID().slice(0, 8)}`;
    const ledgerKey = `${prefix}:{budget}:usage:test`;
    const ledger = { key: ledgerKey, ttlS: 60, increments: [['requests', 1]] as Array<[string, number]> };
    const requests = async () => Number((await redis.hget(ledgerKey, 'requests')) ?? 0);

    // A connection that loses the reply of the next settlement Redis runs.
    const flaky = new Redis(inject('redisUrl'));
    let loseNext = false;
    const settleCall = () => (flaky as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>).predictqSettleCall!;
    const free = budgets({}, flaky);
    await free.settle(free.unreserved('u0', 'default'), 0); // defines the scripts on `flaky`
    const original = settleCall().bind(flaky);
    (flaky as unknown as Record<string, unknown>).predictqSettleCall = async (...args: unknown[]) => {
      const reply = await original(...args);
      if (!loseNext) return reply;
      loseNext = false;
      throw new Error('Connection is closed.');
    };
    try {
      const hold = free.unreserved('u1', 'default');
      // No budget: nothing is written before the call.
      expect(await redis.exists(`${prefix}:{budget}:calls`)).toBe(0);
      loseNext = true;
      await expect(free.settle(hold, 300, ledger)).rejects.toThrow();
      expect(await requests()).toBe(1);
      // Retried after the lost reply: counted once.
      expect(await free.settle(hold, 300, ledger)).toBeUndefined();
      expect(await requests()).toBe(1);
      expect(await free.settle(free.unreserved('u2', 'default'), 300, ledger)).toEqual([]);
      expect(await requests()).toBe(2);
    } finally {
      flaky.disconnect();
    }
    // A settlement whose reply arrived leaves its mark only until the next settlement takes it away.
    const steady = budgets({});
    for (let i = 0; i < 50; i++) await steady.settle(steady.unreserved(`s${i}`, 'default'), 1, ledger);
    expect(await requests()).toBe(52);
    // Left: u2's mark (its Budgets is gone: it expires with the record lifetime) and the latest one's.
    expect(await steady.settledMarks()).toBe(2);
    // Nothing was reserved, so a release has nothing to give back and sends nothing.
    await steady.release(steady.unreserved('s99', 'default'));
    expect(await redis.exists(`${prefix}:{budget}:calls`)).toBe(0);

    const capped = budgets({ global: { daily_usd: 1 } });
    const recorded = reserved(await capped.reserve('r1', 'default', 500, 60_000));
    expect(await capped.settle(recorded, 200, ledger)).toHaveLength(1);
    expect(await capped.settle(recorded, 200, ledger)).toBeUndefined();
    expect(await requests()).toBe(53);
    expect((await state(capped))['global/daily']).toMatchObject({ spentMicros: 200, reservedMicros: 0 });
    expect(() => capped.unreserved('r2', 'default')).toThrow(TypeError);
  });

  it('settles calls that are ready together in fewer round trips, each once, each with the spend right after it', async () => {
    prefix = `t${randomUUID().slice(0, 8)}`;
    const ledgerKey = `${prefix}:{budget}:usage:test`;
    // Two fields, each call with its own amounts: a batch's ledger writes are summed per field.
    const ledger = (i: number) => ({ key: ledgerKey, ttlS: 60, increments: [['requests', 1], ['tokens', 10 + i]] as Array<[string, number]> });
    const b = budgets({ global: { daily_usd: 1 } });
    await b.settle(reserved(await b.reserve('warm', 'default', 1, 60_000)), 0); // defines the scripts
    let calls = 0;
    const commands = redis as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    const original = commands.predictqSettleCall!;
    commands.predictqSettleCall = (...args: unknown[]) => (calls++, original.apply(redis, args));
    try {
      const holds = await Promise.all(Array.from({ length: 20 }, (_, i) => b.reserve(`c${i}`, 'default', 1000, 60_000).then(reserved)));
      const free = budgets({});
      const states = await Promise.all([
        ...holds.map((hold, i) => b.settle(hold, 100, ledger(i))),
        ...holds.map((hold, i) => b.settle(hold, 100, ledger(i))), // retried: counted once
        ...Array.from({ length: 5 }, (_, i) => free.settle(free.unreserved(`f${i}`, 'default'), 7, ledger(20 + i))),
      ]);
      expect(calls).toBeLessThan(20);
      const spends = states.slice(0, 20).map((s) => s![0]!.spentMicros);
      expect([...spends].sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => 100 * (i + 1)));
      expect(states.slice(20, 40)).toEqual(Array(20).fill(undefined));
      expect(states.slice(40)).toEqual(Array(5).fill([]));
      expect((await state(b))['global/daily']).toMatchObject({ spentMicros: 2000, reservedMicros: 0 });
      // 25 calls once each: 25 requests, and 10 + i tokens for i in 0..24.
      expect(await redis.hgetall(ledgerKey)).toEqual({ requests: '25', tokens: String(25 * 10 + (24 * 25) / 2) });
    } finally {
      commands.predictqSettleCall = original;
    }
  });

  it('tells "held by calls in flight" from "spent", and applies tenant and global windows together', async () => {
    prefix = `t${randomUUID().slice(0, 8)}`;
    const b = budgets({ global: { daily_usd: 1 }, tenants: { default: { daily_usd: 0.001, policy: 'hold' } } });
    const first = reserved(await b.reserve('1', 'default', 600, 60_000));
    const second = await b.reserve('2', 'default', 600, 60_000);
    expect(second).toMatchObject({ status: 'held', limit: { budget: 'tenant:default', window: 'daily', policy: 'hold' } });
    await b.settle(first, 500);
    const third = await b.reserve('3', 'default', 600, 60_000);
    expect(third).toMatchObject({ status: 'exhausted', limit: { budget: 'tenant:default', window: 'daily' }, resetsAt: Date.UTC(2025, 1, 1) });
    // Nothing was taken from the global window by the refused reservations.
    expect((await state(b))['global/daily']).toMatchObject({ spentMicros: 500, reservedMicros: 0 });
    // Another tenant has no budget of its own: only the global window applies.
    expect(b.applies('someone-else')).toBe(true);
    expect((await b.reserve('4', 'someone-else', 600, 60_000)).status).toBe('reserved');
  });

  it('never over-reserves when two connections race for the last of a budget', async () => {
    prefix = `t${randomUUID().slice(0, 8)}`;
    const settings = { global: { daily_usd: 0.001 } }; // room for exactly 100 reservations of 10
    const [b1, b2] = [budgets(settings, redis), budgets(settings, other)];
    const outcomes = await Promise.all(Array.from({ length: 300 }, (_, i) => (i % 2 ? b1 : b2).reserve(`r${i}`, 'default', 10, 60_000)));
    expect(outcomes.filter((o) => o.status === 'reserved')).toHaveLength(100);
    expect(outcomes.filter((o) => o.status === 'held')).toHaveLength(200);
    expect((await state(b1))['global/daily']).toMatchObject({ spentMicros: 0, reservedMicros: 1000 });
  });

  it('reclaims the reservation of a worker that died holding it once it expires', async () => {
    prefix = `t${randomUUID().slice(0, 8)}`;
    const b = budgets({ global: { daily_usd: 0.001 } });
    reserved(await b.reserve('dead', 'default', 900, 5_000)); // never settled
    expect((await b.reserve('live', 'default', 900, 5_000)).status).toBe('held');
    clock.t += 5_001;
    const hold = reserved(await b.reserve('live', 'default', 900, 5_000));
    await b.settle(hold, 900);
    expect((await state(b))['global/daily']).toMatchObject({ spentMicros: 900, reservedMicros: 0 });
  });

  it('rolls the daily window over at UTC midnight while the monthly one keeps counting', async () => {
    prefix = `t${randomUUID().slice(0, 8)}`;
    const b = budgets({ global: { daily_usd: 0.001, monthly_usd: 0.0015 } });
    await b.settle(reserved(await b.reserve('d1', 'default', 900, 60_000)), 900);
    expect(await b.reserve('d1b', 'default', 200, 60_000)).toMatchObject({ status: 'exhausted', limit: { window: 'daily' }, resetsAt: Date.UTC(2025, 1, 1) });
    expect(await b.exhausted('default', 200)).toMatchObject({ limit: { window: 'daily' }, spentMicros: 900 });

    clock.t = Date.UTC(2025, 0, 31, 23, 59, 59, 999);
    expect((await b.reserve('still', 'default', 200, 60_000)).status).toBe('exhausted');
    clock.t = Date.UTC(2025, 1, 1); // February: a new day and a new month
    await b.settle(reserved(await b.reserve('d2', 'default', 200, 60_000)), 200);
    const feb = await state(b);
    expect(feb['global/daily']).toMatchObject({ spentMicros: 200, resetsAt: Date.UTC(2025, 1, 2) });
    expect(feb['global/monthly']).toMatchObject({ spentMicros: 200, resetsAt: Date.UTC(2025, 2, 1) });

    // Within one month the monthly window is the one that runs out.
    clock.t = Date.UTC(2025, 1, 2, 8);
    await b.settle(reserved(await b.reserve('d3', 'default', 900, 60_000)), 900);
    clock.t = Date.UTC(2025, 1, 3, 8);
    expect(await b.reserve('d4', 'default', 500, 60_000)).toMatchObject({ status: 'exhausted', limit: { window: 'monthly' }, resetsAt: Date.UTC(2025, 2, 1) });
    // Every window key expires (bounded memory).
    for (const key of await redis.keys(`${prefix}:*`)) expect(await redis.ttl(key)).toBeGreaterThan(0);
  });
});
