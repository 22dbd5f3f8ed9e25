// The tiered cache against a real Redis: single-flight across instances (each its own
// connection, as separate workers would have), lock-holder death, invalidation, tampering and
// a Redis that goes away.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { until } from '../../../../test/utils/http.js';
import { startRedis } from '../../../../test/utils/redis-server.js';
import { CacheSettingsSchema, type CacheSettings } from '../config/index.js';
import { PredictqError } from '../errors/index.js';
import { createFastConnection } from '../queue/index.js';
import { z } from 'zod';
import { cacheKey, type CacheRequest } from './cache-key.js';
import { EntryCodec } from './codec.js';
import { TieredCache, type Computed } from './tiered-cache.js';

const redisUrl = inject('redisUrl');
const open: TieredCache[] = [];
const cleanup: Redis[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
  for (const r of cleanup.splice(0)) r.disconnect();
});

function makeCache(prefix: string, overrides: Partial<CacheSettings> = {}, url = redisUrl, subscribe = false): TieredCache {
  const settings = CacheSettingsSchema.parse({ lock_ttl_ms: 1000, wait_ms: 10_000, generation_ttl_ms: 0, ...overrides });
  const cache = new TieredCache({
    settings,
    keyPrefix: prefix,
    redis: createFastConnection(url),
    subscriber: subscribe ? createFastConnection(url, { enableOfflineQueue: true }) : undefined,
    codec: new EntryCodec(),
  });
  open.push(cache);
  return cache;
}

function request(overrides: Partial<CacheRequest> = {}): CacheRequest {
  return { material: `req-${randomUUID()}`, scope: 'tenant:t', program: 'qa', mode: 'default', ttlS: undefined, ...overrides };
}

/** What the tests cache: outputs. A result that is not `shareable` gives the cache no entry. */
const ENTRY = z.object({ outputs: z.record(z.string(), z.unknown()) });
type Entry = z.infer<typeof ENTRY>;
interface Result {
  outputs: Record<string, unknown>;
  shareable: boolean;
}

function result(overrides: Partial<Result> = {}): Result {
  return { outputs: { answer: `answer ${randomUUID()}` }, shareable: true, ...overrides };
}

function slowCompute(counter: { calls: number }, ms: number, make: () => Result = () => result()) {
  return async (): Promise<Computed<Result, Entry>> => {
    counter.calls++;
    await new Promise((r) => setTimeout(r, ms));
    const made = make();
    return { result: made, entry: made.shareable ? { outputs: made.outputs } : undefined };
  };
}

describe('TieredCache', () => {
  it('makes one computation for concurrent identical requests across instances; the rest are coalesced', async () => {
    const prefix = `t${randomUUID().slice(0, 8)}`;
    const caches = [makeCache(prefix), makeCache(prefix), makeCache(prefix)];
    const req = request();
    const counter = { calls: 0 };
    const fixed = result();
    const outcomes = await Promise.all(
      Array.from({ length: 30 }, (_, i) => caches[i % 3]!.resolve(req, ENTRY, slowCompute(counter, 300, () => fixed))),
    );
    expect(counter.calls).toBe(1);
    expect(outcomes.filter((o) => o.outcome === 'miss')).toHaveLength(1);
    const hits = outcomes.filter((o) => o.outcome === 'hit');
    expect(hits).toHaveLength(29);
    for (const h of hits) {
      expect(h.outcome === 'hit' && h.level).toBe('coalesced');
      expect(h.outcome === 'hit' && h.entry.outputs).toEqual(fixed.outputs);
    }
    // Afterwards: L1 in an instance that saw it, L2 in a fresh one (promoted to its L1).
    const again = await caches[1]!.resolve(req, ENTRY, slowCompute(counter, 0));
    expect(again).toMatchObject({ outcome: 'hit', level: 'memory' });
    const fresh = makeCache(prefix);
    expect(await fresh.resolve(req, ENTRY, slowCompute(counter, 0))).toMatchObject({ outcome: 'hit', level: 'redis' });
    expect(await fresh.resolve(req, ENTRY, slowCompute(counter, 0))).toMatchObject({ outcome: 'hit', level: 'memory' });
    expect(counter.calls).toBe(1);
    expect(fresh.stats.local(fresh.l1Size)).toMatchObject({ hits: { redis: 1, memory: 1 }, misses: 0 });
  });

  it('does not deadlock when a lock holder dies: the lock expires and a waiter computes', async () => {
    const prefix = `t${randomUUID().slice(0, 8)}`;
    const cache = makeCache(prefix, { lock_ttl_ms: 400 });
    const req = request();
    const key = cacheKey(req, { all: 0, scope: 0, program: 0 });
    const raw = new Redis(redisUrl);
    cleanup.push(raw);
    // A "dead worker" holds the lock and never answers.
    await raw.set(`${prefix}:cache:{${key}}:lock`, 'dead-holder', 'PX', 400);
    const counter = { calls: 0 };
    const outcome = await cache.resolve(req, ENTRY, slowCompute(counter, 0));
    expect(outcome.outcome).toBe('miss');
    expect(counter.calls).toBe(1);
    expect(await raw.exists(`${prefix}:cache:{${key}}:lock`)).toBe(0);
  });

  it('keeps the lock alive while a slow holder computes (renewal), so nobody computes twice', async () => {
    const prefix = `t${randomUUID().slice(0, 8)}`;
    const [a, b] = [makeCache(prefix, { lock_ttl_ms: 300 }), makeCache(prefix, { lock_ttl_ms: 300 })];
    const req = request();
    const counter = { calls: 0 };
    const first = a.resolve(req, ENTRY, slowCompute(counter, 1200));
    await new Promise((r) => setTimeout(r, 50));
    const second = await b.resolve(req, ENTRY, slowCompute(counter, 0));
    expect((await first).outcome).toBe('miss');
    expect(second).toMatchObject({ outcome: 'hit', level: 'coalesced' });
    expect(counter.calls).toBe(1);
  });

  it('does not store or share an answer given without an entry: each request computes its own', async () => {
    const prefix = `t${randomUUID().slice(0, 8)}`;
    const caches = [makeCache(prefix), makeCache(prefix)];
    const req = request();
    const counter = { calls: 0 };
    const outcomes = await Promise.all(
      Array.from({ length: 6 }, (_, i) => caches[i % 2]!.resolve(req, ENTRY, slowCompute(counter, 100, () => result({ shareable: false })))),
    );
    expect(outcomes.every((o) => o.outcome === 'miss')).toBe(true);
    expect(counter.calls).toBe(6);
    expect((await caches[0]!.resolve(req, ENTRY, slowCompute(counter, 0, () => result({ shareable: false })))).outcome).toBe('miss');
    // The next shareable answer is stored as usual.
    await caches[0]!.resolve(req, ENTRY, slowCompute(counter, 0));
    expect(await caches[1]!.resolve(req, ENTRY, slowCompute(counter, 0))).toMatchObject({ outcome: 'hit', level: 'redis' });
  });

  it('treats a stored value of another shape as a counted miss', async () => {
    const prefix = `t${randomUUID().slice(0, 8)}`;
    const req = request();
    await makeCache(prefix).resolve(req, z.object({ other: z.string() }), async () => ({ result: 1, entry: { other: 'x' } }));
    const reader = makeCache(prefix);
    const counter = { calls: 0 };
    expect((await reader.resolve(req, ENTRY, slowCompute(counter, 0))).outcome).toBe('miss');
    expect(counter.calls).toBe(1);
    expect(reader.stats.local(reader.l1Size).decode_errors).toBeGreaterThanOrEqual(1);
  });

  it('gives every in-process joiner the leader error, releases the lock, and computes again next time', async () => {
    const prefix = `t${randomUUID().slice(0, 8)}`;
    const cache = makeCache(prefix);
    const req = request();
    let calls = 0;
    const failing = async (): Promise<Computed<Result, Entry>> => {
      calls++;
      await new Promise((r) => setTimeout(r, 50));
      throw new PredictqError('lm_upstream_error', 'boom');
    };
    const settled = await Promise.allSettled(Array.from({ length: 5 }, () => cache.resolve(req, ENTRY, failing)));
    expect(calls).toBe(1);
    expect(settled.every((s) => s.status === 'rejected' && (s.reason as PredictqError).code === 'lm_upstream_error')).toBe(true);
    const counter = { calls: 0 };
    expect((await cache.resolve(req, ENTRY, slowCompute(counter, 0))).outcome).toBe('miss');
    expect(counter.calls).toBe(1);
  });

  it('refresh recomputes and overwrites; a tampered L2 value is a counted miss, not an error', async () => {
    const prefix = `t${randomUUID().slice(0, 8)}`;
    const cache = makeCache(prefix);
    const req = request();
    await cache.resolve(req, ENTRY, slowCompute({ calls: 0 }, 0, () => result({ outputs: { answer: 'old' } })));
    const refreshed = await cache.resolve({ ...req, mode: 'refresh' }, ENTRY, slowCompute({ calls: 0 }, 0, () => result({ outputs: { answer: 'new' } })));
    expect(refreshed.outcome).toBe('refresh');
    const other = makeCache(prefix);
    const hit = await other.resolve(req, ENTRY, slowCompute({ calls: 0 }, 0));
    expect(hit.outcome === 'hit' && hit.entry.outputs).toEqual({ answer: 'new' });

    const raw = new Redis(redisUrl);
    cleanup.push(raw);
    const key = cacheKey(req, { all: 0, scope: 0, program: 0 });
    await raw.set(`${prefix}:cache:{${key}}:v`, Buffer.from([2, 0, 0x7b, 0x7b]));
    const third = makeCache(prefix);
    const counter = { calls: 0 };
    expect((await third.resolve(req, ENTRY, slowCompute(counter, 0))).outcome).toBe('miss');
    expect(counter.calls).toBe(1);
    expect(third.stats.local(third.l1Size).decode_errors).toBeGreaterThanOrEqual(1);
  });

  it('invalidates in O(1) by program, namespace or everything, across instances', async () => {
    const prefix = `t${randomUUID().slice(0, 8)}`;
    const [a, b] = [makeCache(prefix, { generation_ttl_ms: 60_000 }, redisUrl, true), makeCache(prefix, { generation_ttl_ms: 60_000 }, redisUrl, true)];
    const req = request({ program: 'qa', scope: 'tenant:t' });
    const otherProgram = request({ program: 'other', scope: 'tenant:t' });
    const counter = { calls: 0 };
    await a.resolve(req, ENTRY, slowCompute(counter, 0));
    await a.resolve(otherProgram, ENTRY, slowCompute(counter, 0));
    expect(await b.resolve(req, ENTRY, slowCompute(counter, 0))).toMatchObject({ outcome: 'hit' });
    // b trusts its generations for a minute: only the published invalidation can reach it.
    await a.invalidate({ program: 'qa' });
    await until(async () => (await b.resolve(req, ENTRY, slowCompute(counter, 0))).outcome === 'miss');
    expect((await b.resolve(otherProgram, ENTRY, slowCompute(counter, 0))).outcome).toBe('hit');
    await a.invalidate({ scope: 'tenant:t' });
    await until(async () => (await b.resolve(otherProgram, ENTRY, slowCompute(counter, 0))).outcome === 'miss');
    const generations = await a.invalidate({ all: true });
    expect(generations).toEqual({ all: 1 });
    await until(async () => (await b.resolve(otherProgram, ENTRY, slowCompute(counter, 0))).outcome === 'miss');
  });

  it('peek answers from L2, then from its own L1, never computes, and misses once another process invalidates', async () => {
    const prefix = `t${randomUUID().slice(0, 8)}`;
    const worker = makeCache(prefix, { generation_ttl_ms: 60_000 }, redisUrl, true);
    const producer = makeCache(prefix, { generation_ttl_ms: 60_000 }, redisUrl, true);
    const req = request();
    expect(await producer.peek(req, ENTRY)).toBeUndefined();
    const counter = { calls: 0 };
    const made = result();
    await worker.resolve(req, ENTRY, slowCompute(counter, 0, () => made));
    expect(await producer.peek(req, ENTRY)).toEqual({ entry: { outputs: made.outputs }, level: 'redis' });
    // Gone from Redis, still answered by the producer's L1.
    const raw = new Redis(redisUrl);
    cleanup.push(raw);
    for (const key of await raw.keys(`${prefix}:cache:{*}:v`)) await raw.del(key);
    expect(await producer.peek(req, ENTRY)).toEqual({ entry: { outputs: made.outputs }, level: 'memory' });
    // An invalidation published by another process makes the L1 entry unreachable too.
    await worker.invalidate({ program: req.program! });
    await until(async () => (await producer.peek(req, ENTRY)) === undefined);
    expect(counter.calls).toBe(1);
  });

  it('degrades to L1 when its Redis dies: lookups answer quickly, errors are counted, nothing throws', async () => {
    const own = await startRedis();
    let stopped = false;
    try {
      const prefix = `t${randomUUID().slice(0, 8)}`;
      const cache = makeCache(prefix, { redis_timeout_ms: 200 }, own.url);
      const req = request();
      const counter = { calls: 0 };
      await cache.resolve(req, ENTRY, slowCompute(counter, 0));
      await own.stop();
      stopped = true;
      const fresh = request();
      const started = Date.now();
      expect((await cache.resolve(fresh, ENTRY, slowCompute(counter, 0))).outcome).toBe('miss');
      expect(Date.now() - started).toBeLessThan(5000);
      expect(await cache.resolve(fresh, ENTRY, slowCompute(counter, 0))).toMatchObject({ outcome: 'hit', level: 'memory' });
      expect(await cache.resolve(req, ENTRY, slowCompute(counter, 0))).toMatchObject({ outcome: 'hit', level: 'memory' });
      expect(cache.stats.local(cache.l1Size).redis_errors).toBeGreaterThanOrEqual(1);
      expect((await cache.snapshot()).source).toBe('local');
    } finally {
      // stop() twice would wait for a second exit that never comes.
      if (!stopped) await own.stop();
    }
  });
});
