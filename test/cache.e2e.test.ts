// The shared cache across real processes: 50 identical concurrent requests over 3 worker
// processes make ONE LM call (the simulator's request count is the judge), the producer answers
// L2 hits without a job, invalidation is O(1) and immediate, and a dead cache Redis degrades to
// L1 without failing predictions.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, until } from './utils/http.js';
import { startRedis, type PrivateRedis } from './utils/redis-server.js';
import { workerMetrics as workerMetricsText } from './utils/processes.js';
import { startStack, type Stack } from './utils/stack.js';

const ADMIN = { authorization: 'Bearer test-admin-key' };

/** A counter's value on each worker's /metrics. */
async function workerMetrics(stack: Stack, pattern: RegExp): Promise<number[]> {
  return Promise.all(
    stack.workers.map(async (worker) => {
      const text = await workerMetricsText(worker);
      let total = 0;
      for (const row of text.split('\n')) {
        const match = pattern.exec(row);
        if (match) total += Number(match[1]);
      }
      return total;
    }),
  );
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

describe('cache across worker processes', () => {
  let stack: Stack;
  const simRequests = () => stack.sim.state.stats.snapshot().requests;

  beforeAll(async () => {
    stack = await startStack({
      workers: 3,
      route: { concurrency: 20 },
      config: { programs: { qa: { signature: 'question -> answer', version: '1' } } },
    });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('makes ONE LM call for 50 identical concurrent requests over 3 workers; the 49 others are coalesced', async () => {
    stack.sim.state.faults.update({ latency_ms: 2500 });
    const body = { signature: 'question -> answer', inputs: { question: `single flight ${randomUUID()}` } };
    const before = simRequests();
    let responses;
    try {
      responses = await Promise.all(
        Array.from({ length: 50 }, () => request(`${stack.url}/v1/predictions`, { body, headers: { prefer: 'wait=40' } })),
      );
    } finally {
      stack.sim.state.faults.update({ latency_ms: 0 });
    }
    expect(responses.map((r) => r.body.status)).toEqual(Array(50).fill('succeeded'));
    expect(simRequests() - before).toBe(1);
    const misses = responses.filter((r) => !r.body.cache.hit);
    expect(misses).toHaveLength(1);
    expect(misses[0]!.body.cost_usd).toBeGreaterThanOrEqual(0);
    const levels = responses.filter((r) => r.body.cache.hit).map((r) => r.body.cache.level);
    expect(levels).toEqual(Array(49).fill('coalesced'));
    // Every waiter got the leader's outputs, at no cost.
    for (const r of responses) expect(r.body.outputs).toEqual(misses[0]!.body.outputs);
    for (const r of responses.filter((x) => x.body.cache.hit)) expect(r.body.cost_usd).toBe(0);
    // Counted by the workers, and the waiting really spread over several worker processes.
    const coalesced = await until(async () => {
      const perWorker = await workerMetrics(stack, /^dspy_cache_hits_total\{level="coalesced"\} (\d+)/);
      return sum(perWorker) >= 49 ? perWorker : undefined;
    });
    expect(sum(coalesced)).toBe(49);
    expect(coalesced.filter((n) => n > 0).length).toBeGreaterThanOrEqual(2);
    expect(sum(await workerMetrics(stack, /^dspy_cache_misses_total (\d+)/))).toBeGreaterThanOrEqual(1);

    // The next identical request is answered by the producer from Redis: no job, no LM call.
    const fast = await request(`${stack.url}/v1/predictions`, { body });
    expect(fast.status).toBe(200);
    expect(fast.body).toMatchObject({ status: 'succeeded', cache: { hit: true, level: 'redis' }, cost_usd: 0 });
    expect(fast.body.outputs).toEqual(misses[0]!.body.outputs);
    expect(simRequests() - before).toBe(1);
    const read = await request(`${stack.url}/v1/predictions/${fast.body.id}`);
    expect(read.body).toMatchObject({ id: fast.body.id, status: 'succeeded', cache: { level: 'redis' } });

    // no-store skips the cache; another tenant-visible parameter is another key.
    const noStore = await request(`${stack.url}/v1/predictions`, { body: { ...body, cache: 'no-store' }, headers: { prefer: 'wait=20' } });
    expect(noStore.body.cache).toEqual({ hit: false, level: null });
    const other = await request(`${stack.url}/v1/predictions`, { body: { ...body, params: { max_tokens: 300 } }, headers: { prefer: 'wait=20' } });
    expect(other.body.cache.hit).toBe(false);
    expect(simRequests() - before).toBe(3);

    // Each process adds its counters to the cluster totals every stats_flush_ms.
    const stats = await until(async () => {
      const res = await request(`${stack.url}/admin/stats`, { headers: ADMIN });
      // Each worker flushes on its own clock: wait until all three have added their part.
      const c = res.body.cache;
      return c?.misses >= 2 && c?.bypassed >= 1 && c?.hits?.coalesced >= 49 ? res : undefined;
    });
    expect(stats.body.cache).toMatchObject({ source: 'cluster', hits: { coalesced: 49 } });
    expect(stats.body.cache.hits.redis).toBeGreaterThanOrEqual(1);
    expect(stats.body.cache.bypassed).toBeGreaterThanOrEqual(1);
    expect(stats.body.cache.hit_rate).toBeGreaterThan(0.5);
    expect(stats.body.cache.l1.entries).toBeGreaterThanOrEqual(3);
    expect(stats.body.cache.l1.bytes).toBeGreaterThan(0);
  });

  it('invalidates by namespace and by program at once (POST /admin/cache/invalidate); a new version misses', async () => {
    const body = { program: 'qa', inputs: { question: `invalidate ${randomUUID()}` } };
    const first = await request(`${stack.url}/v1/predictions`, { body, headers: { prefer: 'wait=20' } });
    expect(first.body.cache.hit).toBe(false);
    const second = await request(`${stack.url}/v1/predictions`, { body, headers: { prefer: 'wait=20' } });
    expect(second.body.cache).toEqual({ hit: true, level: 'redis' });

    const byProgram = await request(`${stack.url}/admin/cache/invalidate`, { body: { program: 'qa' }, headers: ADMIN });
    expect(byProgram.status).toBe(200);
    expect(byProgram.body.generations).toEqual({ 'program:qa': expect.any(Number) });
    const before = stack.sim.state.stats.snapshot().requests;
    const third = await request(`${stack.url}/v1/predictions`, { body, headers: { prefer: 'wait=20' } });
    expect(third.body.cache.hit).toBe(false);
    expect(stack.sim.state.stats.snapshot().requests - before).toBe(1);

    const byNamespace = await request(`${stack.url}/admin/cache/invalidate`, { body: { namespace: 'tenant:default' }, headers: ADMIN });
    expect(byNamespace.status).toBe(200);
    const fourth = await request(`${stack.url}/v1/predictions`, { body, headers: { prefer: 'wait=20' } });
    expect(fourth.body.cache.hit).toBe(false);

    const bad = await request(`${stack.url}/admin/cache/invalidate`, { body: { namespace: 'tenant:nobody' }, headers: ADMIN });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_request');
    const unknown = await request(`${stack.url}/admin/cache/invalidate`, { body: { program: 'nope' }, headers: ADMIN });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('unknown_program');
    const anonymous = await request(`${stack.url}/admin/cache/invalidate`, { body: { all: true } });
    expect(anonymous.status).toBe(401);
  });
});

describe('cache Redis down', () => {
  let stack: Stack;
  let cacheRedis: PrivateRedis;
  let killed = false;

  beforeAll(async () => {
    cacheRedis = await startRedis();
    stack = await startStack({ workers: 1, config: { cache: { redis_url: cacheRedis.url, redis_timeout_ms: 300 } } });
  });
  afterAll(async () => {
    await stack?.stop();
    if (!killed) await cacheRedis?.stop();
  });

  it('falls back to L1 with a warning, and predictions still complete', async () => {
    const body = { signature: 'question -> answer', inputs: { question: `redis down ${randomUUID()}` } };
    const first = await request(`${stack.url}/v1/predictions`, { body, headers: { prefer: 'wait=20' } });
    expect(first.body).toMatchObject({ status: 'succeeded', cache: { hit: false } });
    const second = await request(`${stack.url}/v1/predictions`, { body, headers: { prefer: 'wait=20' } });
    expect(second.body.cache).toEqual({ hit: true, level: 'redis' });

    await cacheRedis.stop();
    killed = true;
    // The answer is still in L1 (the producer's, which answers it without a job).
    const fromL1 = await request(`${stack.url}/v1/predictions`, { body, headers: { prefer: 'wait=20' } });
    expect(fromL1.status).toBe(200);
    expect(fromL1.body).toMatchObject({ status: 'succeeded', cache: { hit: true, level: 'memory' } });
    expect(fromL1.body.outputs).toEqual(first.body.outputs);
    // A new question goes to the LM and succeeds.
    const fresh = await request(`${stack.url}/v1/predictions`, {
      body: { signature: 'question -> answer', inputs: { question: `fresh ${randomUUID()}` } },
      headers: { prefer: 'wait=20' },
    });
    expect(fresh.body).toMatchObject({ status: 'succeeded', cache: { hit: false } });
    await until(async () => stack.workers[0]!.lines.some((l) => l.includes('cache redis unavailable')));
    const stats = await request(`${stack.url}/admin/stats`, { headers: ADMIN });
    expect(stats.status).toBe(200);
    expect(stats.body.cache.source).toBe('local');
  });
});
