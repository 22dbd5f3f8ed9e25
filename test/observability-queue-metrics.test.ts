// Queue depth and backlog age gauges, read from real BullMQ queues in a real Redis at scrape time.
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { PRIORITY, createMetrics, queuePrefix } from '@predictq/core';
import { freePort } from './utils/redis-server.js';

async function gaugeValue(metrics: ReturnType<typeof createMetrics>, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const metric = await metrics.registry.getSingleMetric(name)!.get();
  const found = metric.values.find((v) => Object.entries(labels).every(([k, value]) => v.labels[k] === value));
  return found?.value;
}

describe('queue metrics', () => {
  let redis: Redis;
  let queue: Queue;
  let empty: Queue;

  beforeAll(async () => {
    redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
    const prefix = queuePrefix(`t${randomUUID().slice(0, 8)}`);
    queue = new Queue('predict.busy', { connection: redis, prefix });
    empty = new Queue('predict.idle', { connection: redis, prefix });
  });

  afterAll(async () => {
    for (const q of [queue, empty]) {
      await q?.obliterate({ force: true });
      await q?.close();
    }
    await redis?.quit();
  });

  it('counts jobs by state and finds the oldest waiting job across priorities and the wait list', async () => {
    const now = Date.now();
    // Interactive jobs have no priority (the wait list, FIFO, ahead of every prioritized job);
    // batch items are prioritized.
    await queue.add('p', {}, { priority: PRIORITY.interactive, timestamp: now - 30_000 });
    await queue.add('p', {}, { priority: PRIORITY.batch, timestamp: now - 50_000 });
    await queue.add('p', {}, { priority: PRIORITY.batch, timestamp: now - 20_000 });
    await queue.add('p', {}, { timestamp: now - 10_000 });
    // Delayed jobs are not waiting to run yet: they do not count toward the backlog age.
    await queue.add('p', {}, { delay: 60_000, timestamp: now - 500_000 });

    const metrics = createMetrics({ defaultMetrics: false });
    const unwatch = metrics.queues.watch([queue, empty]);
    const text = await metrics.registry.metrics();
    expect(text).toContain('dspy_queue_jobs{queue="predict.busy",state="prioritized"} 2');
    expect(text).toContain('dspy_queue_jobs{queue="predict.busy",state="waiting"} 2');
    expect(text).toContain('dspy_queue_jobs{queue="predict.busy",state="delayed"} 1');
    expect(text).toContain('dspy_queue_jobs{queue="predict.idle",state="prioritized"} 0');

    const oldest = await gaugeValue(metrics, 'dspy_queue_oldest_waiting_seconds', { queue: 'predict.busy' });
    expect(oldest).toBeGreaterThanOrEqual(50);
    expect(oldest).toBeLessThan(60);
    expect(await gaugeValue(metrics, 'dspy_queue_oldest_waiting_seconds', { queue: 'predict.idle' })).toBe(0);

    // Once that job is gone the next oldest (the interactive one on the wait list, 30 s) is reported.
    const [batchOldest] = (await queue.getPrioritized(0, -1)).filter((j) => j.timestamp === now - 50_000);
    await batchOldest!.remove();
    const next = await gaugeValue(metrics, 'dspy_queue_oldest_waiting_seconds', { queue: 'predict.busy' });
    expect(next).toBeGreaterThanOrEqual(30);
    expect(next).toBeLessThan(40);
    unwatch();
  });

  it('still answers a scrape when Redis is unreachable', async () => {
    const dead = new Redis(`redis://127.0.0.1:${await freePort()}`, { maxRetriesPerRequest: null, retryStrategy: () => 200 });
    dead.on('error', () => {});
    const unreachable = new Queue('predict.down', { connection: dead, prefix: queuePrefix('down') });
    unreachable.on('error', () => {});
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.queues.watch([unreachable]);
    try {
      const text = await metrics.registry.metrics();
      expect(text).toContain('# TYPE dspy_queue_jobs gauge');
      expect(text).not.toContain('queue="predict.down"');
    } finally {
      dead.disconnect();
      await unreachable.close().catch(() => {});
    }
  });
});
