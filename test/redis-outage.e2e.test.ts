// Redis going away under a running stack: the producer answers 503 at once and enqueues nothing
// it answered with an error; every LM call made around a Redis restart is in the usage report
// exactly once.
import { createHash, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, until } from './utils/http.js';
import { startRedis, type PrivateRedis } from './utils/redis-server.js';
import { ADMIN } from './utils/resilience.js';
import { startStack, type Stack } from './utils/stack.js';

const predictionId = (key: string) => `pred_${createHash('sha256').update(`default\u0000${key}`).digest('hex').slice(0, 32)}`;

describe('the producer while Redis is down', () => {
  let redis: PrivateRedis;
  let stack: Stack;
  beforeAll(async () => {
    redis = await startRedis();
    stack = await startStack({ workers: 1, redisUrl: redis.url });
  });
  afterAll(async () => {
    await stack?.stop();
    await redis?.stop();
  });

  it('answers 503 service_unavailable within about a second, and never enqueues what it refused', async () => {
    const ok = await request(`${stack.url}/v1/predictions`, {
      body: { signature: 'question -> answer', inputs: { question: 'before the outage' } },
      headers: { prefer: 'wait=20' },
    });
    expect(ok.status).toBe(200);

    await redis.stop({ keepData: true });
    const refusedKeys = Array.from({ length: 5 }, () => randomUUID());
    const timings: number[] = [];
    for (const key of refusedKeys) {
      const started = Date.now();
      const res = await request(`${stack.url}/v1/predictions`, {
        body: { signature: 'question -> answer', inputs: { question: `during the outage ${key}` } },
        headers: { 'idempotency-key': key, prefer: 'wait=5' },
      });
      timings.push(Date.now() - started);
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe('service_unavailable');
    }
    const started = Date.now();
    const read = await request(`${stack.url}/v1/predictions/${ok.body.id}`);
    timings.push(Date.now() - started);
    expect(read.status).toBe(503);
    expect(read.body.error.code).toBe('service_unavailable');
    expect((await request(`${stack.url}/ready`)).status).toBe(503);
    // "About a second": generous for a busy 2-core machine, far below a hang.
    expect(Math.max(...timings)).toBeLessThan(2500);

    redis = await startRedis(redis.port, { dir: redis.dir });
    // The producer's connection is back once /ready answers: anything it had kept to replay
    // would have gone out before this ping.
    await until(async () => (await request(`${stack.url}/ready`)).status === 200, 30_000);
    const raw = new Redis(redis.url);
    try {
      for (const key of refusedKeys) {
        expect(await raw.exists(`{${stack.keyPrefix}}:predict.default:${predictionId(key)}`)).toBe(0);
        expect((await request(`${stack.url}/v1/predictions/${predictionId(key)}`)).status).toBe(404);
      }
    } finally {
      raw.disconnect();
    }
    const after = await request(`${stack.url}/v1/predictions`, {
      body: { signature: 'question -> answer', inputs: { question: 'after the outage' } },
      headers: { prefer: 'wait=30' },
    });
    expect(after.status).toBe(200);
    expect(after.body.status).toBe('succeeded');
  });
});

// With a budget every call is recorded before it is made and settled by removing the record;
// without one, nothing is written before the call and the settlement marks itself done.
describe.each([
  { calls: 'reserved', budgets: { global: { daily_usd: 100 } } },
  { calls: 'unreserved', budgets: {} },
])('usage across a Redis restart ($calls calls)', ({ budgets }) => {
  let redis: PrivateRedis;
  let stack: Stack;
  beforeAll(async () => {
    redis = await startRedis(undefined, { persist: true });
    stack = await startStack({
      workers: 2,
      redisUrl: redis.url,
      route: { concurrency: 4 },
      // The budget, when there is one, is far from spent.
      config: { budgets },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await redis?.stop();
  });

  it('counts every LM call exactly once in /admin/usage after Redis restarts mid-run', async () => {
    stack.sim.state.faults.update({ latency_ms: 150 });
    const ids: string[] = [];
    const submit = async (n: number) => {
      for (let start = 0; start < n; start += 20) {
        const batch = await Promise.all(
          Array.from({ length: 20 }, () =>
            request(`${stack.url}/v1/predictions`, { body: { signature: 'question -> answer', inputs: { question: `usage ${randomUUID()}` } } }),
          ),
        );
        for (const res of batch) {
          expect(res.status).toBe(202);
          ids.push(res.body.id);
        }
      }
    };
    await submit(120);
    // Restart while calls are in flight (8 at a time, 150 ms each: the run takes a few seconds).
    await until(async () => stack.sim.state.stats.snapshot().requests >= 20, 30_000, 20);
    await redis.stop({ keepData: true });
    await until(async () => stack.sim.state.stats.snapshot().in_flight === 0, 10_000, 20);
    redis = await startRedis(redis.port, { persist: true, dir: redis.dir });
    await until(async () => (await request(`${stack.url}/ready`)).status === 200, 30_000);

    const statuses = new Map<string, string>();
    await until(
      async () => {
        for (const id of ids) {
          if (statuses.get(id) === 'succeeded') continue;
          const res = await request(`${stack.url}/v1/predictions/${id}`);
          if (res.status === 200) statuses.set(id, res.body.status);
        }
        return [...statuses.values()].filter((s) => s === 'succeeded').length === ids.length;
      },
      60_000,
      500,
    );
    const calls = stack.sim.state.stats.snapshot().requests;
    expect(calls).toBeGreaterThanOrEqual(ids.length);
    // Settlements retried through the outage may land a moment after the job completes.
    const usage = await until(async () => {
      const res = await request(`${stack.url}/admin/usage?group_by=model`, { headers: ADMIN });
      return res.status === 200 && res.body.total.requests >= calls ? res.body : undefined;
    }, 30_000, 250);
    expect(usage.total.requests).toBe(calls);
    if (Object.keys(budgets).length === 0) return;
    const stats = await request(`${stack.url}/admin/stats`, { headers: ADMIN });
    const daily = (stats.body.budgets as Array<{ window: string; spent_usd: number; reserved_usd: number }>).find((b) => b.window === 'daily')!;
    expect(daily.spent_usd).toBeCloseTo(usage.total.cost_usd, 9);
    expect(daily.reserved_usd).toBe(0);
  });
});
