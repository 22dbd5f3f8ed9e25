// Prediction throughput while every prediction has a callback to a receiver that sleeps 5 s per
// request, against the same predictions measured in the same run (without callbacks, or with a
// receiver that answers at once). Deliveries run on their own queue and worker, so the ratio
// should stay near 1: a slow receiver holds delivery slots, never prediction slots.
import { randomUUID } from 'node:crypto';
import { Queue, type QueueEvents } from 'bullmq';
import {
  WEBHOOK_QUEUE,
  createLogger,
  createMetrics,
  createQueueConnection,
  loadConfig,
  queuePrefix,
  type Config,
  type RedisConnection,
} from '@predictq/core';
import { startSim } from '@predictq/lm-sim';
import { createWorker } from '@predictq/worker';
import { PredictionQueues } from '@predictq/producer';
import type { BenchCase } from './harness.js';
import { predictionJobData } from '../test/utils/job-data.js';
import { newWebhookSecret, startReceiver, type Receiver } from '../test/utils/webhook-receiver.js';

const JOBS = Number(process.env.BENCH_WEBHOOK_JOBS ?? 1000);
const CONCURRENCY = 16;
const RECEIVER_SLEEP_MS = 5000;

async function drain(events: QueueEvents, total: number, enqueue: () => Promise<void>): Promise<number> {
  let done = 0;
  const finished = new Promise<void>((resolve) => {
    const onDone = () => {
      if (++done === total) {
        events.off('completed', onDone);
        events.off('failed', onDone);
        resolve();
      }
    };
    events.on('completed', onDone);
    events.on('failed', onDone);
  });
  const started = performance.now();
  await enqueue();
  await finished;
  return total / ((performance.now() - started) / 1000);
}

/** `baseline`: "none" (no callbacks) or "instant" (callbacks to a receiver that answers at once). */
export function webhookThroughput(redisUrl: string, baseline: 'none' | 'instant', latencyMs = 0): BenchCase {
  let sim: Awaited<ReturnType<typeof startSim>>;
  let connection: RedisConnection;
  let config: Config;
  let slow: Receiver;
  let fast: Receiver;
  const prefix = `benchwh${randomUUID().slice(0, 6)}`;
  const secret = newWebhookSecret();
  const secrets = { PREDICTQ_WEBHOOK_SECRET: secret };
  let run = 0;

  async function measure(callbackUrl: string | undefined): Promise<number> {
    run++;
    const logger = createLogger({ name: 'bench', level: 'silent' });
    const worker = createWorker({ config, connection, logger, metrics: createMetrics({ defaultMetrics: false }), secrets });
    const queues = new PredictionQueues(config, connection);
    const events = await queues.events('default');
    const rate = await drain(events, JOBS, async () => {
      const data = (i: number) =>
        predictionJobData({
          tenant: 'bench',
          request_id: randomUUID(),
          inputs: { question: `q ${run} ${i}` },
          created_at: Date.now(),
          ...(callbackUrl ? { callback_url: callbackUrl } : {}),
        });
      await queues.queue('default').addBulk(Array.from({ length: JOBS }, (_, i) => ({ name: 'predict', data: data(i) })));
    });
    // Deliveries still waiting on the sleeping receiver are dropped with the queue.
    await worker.close(500);
    const webhooks = new Queue(WEBHOOK_QUEUE, { connection, prefix: queuePrefix(prefix) });
    await Promise.all([webhooks.obliterate({ force: true }), queues.queue('default').obliterate({ force: true })]);
    await webhooks.close();
    await queues.close();
    return rate;
  }

  return {
    name: `prediction throughput with callbacks to a receiver sleeping ${RECEIVER_SLEEP_MS / 1000} s (${JOBS} jobs, concurrency ${CONCURRENCY}, simulator at ${latencyMs} ms)`,
    unit: 'ops/s',
    runs: Number(process.env.BENCH_RUNS ?? 3),
    baselineName: baseline === 'none' ? 'no callbacks' : 'instant receiver',
    async setup() {
      sim = await startSim({ latencyMs });
      connection = createQueueConnection(redisUrl);
      [slow, fast] = await Promise.all([startReceiver([secret]), startReceiver([secret])]);
      await slow.behave({ sleep_ms: RECEIVER_SLEEP_MS });
      config = loadConfig(
        { REDIS_URL: redisUrl, PREDICTQ_KEY_PREFIX: prefix, ...secrets },
        {
          routes: [{ name: 'default', model: 'sim-small', base_url: sim.url, concurrency: CONCURRENCY }],
          webhooks: { allow_http: true, allow_hosts: ['127.0.0.1'] },
        },
      );
    },
    baseline: () => measure(baseline === 'none' ? undefined : `${fast.url}/hook`),
    subject: () => measure(`${slow.url}/hook`),
    async teardown() {
      await Promise.all([slow.stop(), fast.stop()]);
      await connection.quit();
      await sim.close();
    },
  };
}
