// Route loads read from real BullMQ queues and the breaker and pause keys on a real Redis.
import { randomUUID } from 'node:crypto';
import { Queue, QueueEvents, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../config/index.js';
import { predictionQueueName, queuePrefix } from '../queue/names.js';
import { BreakerStore, RateLimits } from '../resilience/index.js';
import { RouteLoads } from './route-loads.js';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

describe('RouteLoads (real Redis)', () => {
  const keyPrefix = `t${randomUUID().slice(0, 8)}`;
  const config = loadConfig({ PREDICTQ_KEY_PREFIX: keyPrefix }, { routes: [{ name: 'default', model: 'sim-small', base_url: 'http://127.0.0.1:1/v1', concurrency: 3, limits: { rpm: 60 } }] });
  let redis: Redis;
  let queue: Queue;

  beforeAll(async () => {
    redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
    queue = new Queue(predictionQueueName('default'), { connection: redis, prefix: queuePrefix(keyPrefix) });
  });
  afterAll(async () => {
    await queue.obliterate({ force: true });
    await queue.close();
    redis.disconnect();
  });

  it('reads the backlog (waiting + prioritized), running jobs, breaker, pause and recent call times', async () => {
    // Two computed results and a cache hit finish first, to be sampled.
    const events = new QueueEvents(queue.name, { connection: redis.duplicate(), prefix: queuePrefix(keyPrefix) });
    await events.waitUntilReady();
    const results = [
      { cache: { hit: false }, timings: { lm_ms: 400 }, usage: { total_tokens: 30 } },
      { cache: { hit: false }, timings: { lm_ms: 800 }, usage: { total_tokens: 50 } },
      { cache: { hit: true }, timings: { lm_ms: 0 }, usage: { total_tokens: 999 } },
    ];
    const worker = new Worker(queue.name, async (job) => results[Number(job.data.i)], { connection: redis.duplicate(), prefix: queuePrefix(keyPrefix) });
    const jobs = await Promise.all(results.map((_, i) => queue.add('predict', { i })));
    await Promise.all(jobs.map((j) => j.waitUntilFinished(events)));
    await worker.close();
    await events.close();

    const started = Date.now();
    await queue.add('predict', {});
    await queue.add('predict', {});
    await queue.add('predict', {}, { priority: 1 });
    await new BreakerStore(redis, keyPrefix).open('default', 30_000, 'failures');
    await new RateLimits(redis, keyPrefix, config.routes).pause('default', 5000);

    const [load] = await new RouteLoads({ config, redis, queues: [queue] }).read();
    expect(load).toMatchObject({
      route: 'default',
      concurrency: 3,
      backlog: 3,
      active: 0,
      breaker: 'open',
      limits: { rpm: 60 },
      defaultTokensPerCall: 1024,
    });
    expect(load!.pausedMs).toBeGreaterThan(4000);
    expect(load!.oldestWaitingS).toBeGreaterThanOrEqual(0);
    expect(load!.oldestWaitingS).toBeLessThan((Date.now() - started) / 1000 + 1);
    expect(load!.lmSeconds).toBeCloseTo(0.6);
    expect(load!.tokensPerCall).toBe(40);
  });
});
