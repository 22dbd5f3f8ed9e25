// The producer's queues against a real Redis: the shared QueueEvents behind `Prefer: wait`
// keeps delivering completions after sitting idle longer than the producer's command timeout,
// and the light "finished yet?" read agrees with the job's state.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createProducerConnection, loadConfig, predictionQueueName, queuePrefix, type Config, type RedisConnection } from '@predictq/core';
import { PredictionQueues } from './prediction-queues.js';
import { predictionJobData, predictionResult } from '../../../test/utils/job-data.js';
import { listenForCompletion, waitForJob, waitForPrediction } from './wait-for-job.js';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

describe('PredictionQueues (real Redis)', () => {
  let connection: RedisConnection;
  let config: Config;
  let queues: PredictionQueues;
  beforeAll(() => {
    config = loadConfig(
      { REDIS_URL: inject('redisUrl'), PREDICTQ_KEY_PREFIX: `pq${randomUUID().slice(0, 8)}` },
      { routes: [{ name: 'default', model: 'sim-small', base_url: 'http://127.0.0.1:9/v1' }] },
    );
    connection = createProducerConnection(config.redis_url);
    queues = new PredictionQueues(config, connection);
  });
  afterAll(async () => {
    await queues.close();
    connection.disconnect();
  });

  it('hears a completion after an idle spell longer than the command timeout, with no error on the event stream', async () => {
    const events = await queues.events('default');
    const errors: Error[] = [];
    events.on('error', (err) => errors.push(err));
    // The scenario itself: no traffic for longer than the producer connection's 1 s command
    // timeout, while QueueEvents sits in its blocking XREAD.
    await sleep(2500);
    const worker = new Worker(predictionQueueName('default'), async () => ({ ok: true }), {
      connection: createProducerConnection(config.redis_url, { maxRetriesPerRequest: null, commandTimeout: undefined }),
      prefix: queuePrefix(config.key_prefix),
    });
    try {
      const id = randomUUID();
      const heard = new Promise<void>((resolve) => (events as unknown as NodeJS.EventEmitter).once(`completed:${id}`, () => resolve()));
      await queues.queue('default').add('predict', {}, { jobId: id });
      const timedOut = sleep(10_000, 'not heard within 10 s');
      expect(await Promise.race([heard.then(() => 'heard'), timedOut])).toBe('heard');
      expect(errors.map((e) => e.message)).toEqual([]);
    } finally {
      await worker.close();
    }
  });
  it('says finished for a completed or failed job and for one that is gone, not for one still queued', async () => {
    const queue = queues.queue('default');
    const [queued, done, failing] = [randomUUID(), randomUUID(), randomUUID()];
    await queue.add('predict', {}, { jobId: queued, delay: 60_000 });
    const events = await queues.events('default');
    const emitter = events as unknown as NodeJS.EventEmitter;
    const finished = Promise.all(
      [`completed:${done}`, `failed:${failing}`].map((event) => new Promise<void>((resolve) => emitter.once(event, () => resolve()))),
    );
    await queue.add('predict', {}, { jobId: done });
    await queue.add('predict', { fail: true }, { jobId: failing, attempts: 1 });
    const worker = new Worker(
      predictionQueueName('default'),
      async (job) => {
        if ((job.data as { fail?: boolean }).fail) throw new Error('no');
        return { ok: true };
      },
      { connection: createProducerConnection(config.redis_url, { maxRetriesPerRequest: null, commandTimeout: undefined }), prefix: queuePrefix(config.key_prefix) },
    );
    try {
      await finished;
      expect(await queues.finishedOrGone(done, 'default')).toBe(true);
      expect(await queues.finishedOrGone(failing, 'default')).toBe(true);
      expect(await queues.finishedOrGone(queued, 'default')).toBe(false);
      expect((await queues.snapshot(queued))?.state).toBe('queued');
      expect(await queues.finishedOrGone(randomUUID(), 'default')).toBe(true);
    } finally {
      await worker.close();
    }
  });

  const result = (answer: string) => predictionResult({ outputs: { answer } });

  /** The queues a wait uses, with some reads observed. */
  const watch = (overrides: Partial<Pick<PredictionQueues, 'snapshot' | 'finishedOrGone'>>) =>
    ({
      events: (route: string) => queues.events(route),
      snapshot: (id: string) => queues.snapshot(id),
      finishedOrGone: (id: string, route: string) => queues.finishedOrGone(id, route),
      ...overrides,
    }) as unknown as PredictionQueues;

  it('ends a wait as soon as its caller goes away, and stops listening for the job', async () => {
    // No worker: the job never finishes, so only the abort can end the 30 s wait early.
    const id = `pred_${randomUUID().replaceAll('-', '')}`;
    const listening = await listenForCompletion(queues, 'default', id);
    await queues.add(id, predictionJobData());
    const events = (await queues.events('default')) as unknown as NodeJS.EventEmitter;
    expect(events.listenerCount(`completed:${id}`)).toBe(1);
    const gone = new AbortController();
    const started = performance.now();
    const waited = waitForJob(queues, 'default', id, 30_000, gone.signal, listening);
    setTimeout(() => gone.abort(), 100);
    expect(await waited).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(events.listenerCount(`completed:${id}`)).toBe(0);
    expect(events.listenerCount(`failed:${id}`)).toBe(0);

    // A caller gone before the wait began does not wait at all.
    const before = performance.now();
    expect(await waitForJob(queues, 'default', id, 30_000, AbortSignal.abort())).toBeUndefined();
    expect(performance.now() - before).toBeLessThan(5_000);
    expect(events.listenerCount(`completed:${id}`)).toBe(0);
  });

  it('waits for a prediction: from the completed event when it listened first, from the job when it finished before the wait', async () => {
    const worker = new Worker(predictionQueueName('default'), async (job) => result(`answer ${job.id}`), {
      connection: createProducerConnection(config.redis_url, { maxRetriesPerRequest: null, commandTimeout: undefined }),
      prefix: queuePrefix(config.key_prefix),
    });
    const data = predictionJobData();
    try {
      // Listening before the add: the answer is the event's, the job is never read.
      const fresh = `pred_${randomUUID().replaceAll('-', '')}`;
      const listening = await listenForCompletion(queues, 'default', fresh);
      await queues.add(fresh, data);
      const reads: string[] = [];
      const watched = watch({
        snapshot: (id: string) => (reads.push(id), queues.snapshot(id)),
        finishedOrGone: (id: string, route: string) => (reads.push(id), queues.finishedOrGone(id, route)),
      });
      const heard = await waitForPrediction(watched, fresh, data, 10_000, undefined, listening);
      expect(heard).toMatchObject({ id: fresh, status: 'succeeded', outputs: { answer: `answer ${fresh}` } });
      expect(reads).toEqual([]);

      // Finished before anyone waited: the "finished already?" read ends the wait at once.
      const early = `pred_${randomUUID().replaceAll('-', '')}`;
      const events = (await queues.events('default')) as unknown as NodeJS.EventEmitter;
      const done = new Promise<void>((resolve) => events.once(`completed:${early}`, () => resolve()));
      await queues.add(early, data);
      await done;
      const started = performance.now();
      const asked: number[] = [];
      const timed = watch({
        finishedOrGone: (id: string, route: string) => (asked.push(performance.now() - started), queues.finishedOrGone(id, route)),
      });
      const read = await waitForPrediction(timed, early, data, 10_000);
      expect(read).toMatchObject({ id: early, status: 'succeeded', outputs: { answer: `answer ${early}` } });
      // Asked as the wait began (the first poll is due only after 500 ms), and that answer ended it.
      expect(asked).toHaveLength(1);
      expect(asked[0]).toBeLessThan(250);
    } finally {
      await worker.close();
    }
  });

  it('runs interactive predictions before batch items queued earlier', async () => {
    const route = 'default';
    const order: string[] = [];
    const batch = [0, 1].map(() => `pred_${randomUUID().replaceAll('-', '')}`);
    const interactive = [0, 1].map(() => `pred_${randomUUID().replaceAll('-', '')}`);
    const all = new Set([...batch, ...interactive]);
    // Batch first, then interactive, while no worker runs.
    for (const id of batch) await queues.add(id, predictionJobData({ priority: 'batch' }));
    for (const id of interactive) await queues.add(id, predictionJobData({ priority: 'interactive' }));
    const worker = new Worker(
      predictionQueueName(route),
      async (job) => {
        if (all.has(job.id!)) order.push(job.id!);
        return result('x');
      },
      { connection: createProducerConnection(config.redis_url, { maxRetriesPerRequest: null, commandTimeout: undefined }), prefix: queuePrefix(config.key_prefix), concurrency: 1 },
    );
    try {
      await expect.poll(() => order.length, { timeout: 10_000 }).toBe(4);
      expect(order).toEqual([...interactive, ...batch]);
    } finally {
      await worker.close();
    }
  });
});
