// Uncached predictions per second through the real worker pipeline, against a bare BullMQ
// worker that calls the same simulator with the openai client and nothing else. The bare
// worker is handed the very messages predictq renders (rendered before its clock starts), so
// the simulator does the same work for both and the ratio is predictq's own overhead.
import { randomUUID } from 'node:crypto';
import { Queue, QueueEvents, Worker } from 'bullmq';
import OpenAI from 'openai';
import {
  createLogger,
  createMetrics,
  createQueueConnection,
  loadConfig,
  preparePrediction,
  queuePrefix,
  type Config,
  type RedisConnection,
} from '@predictq/core';
import { startSim } from '@predictq/lm-sim';
import { createWorker } from '@predictq/worker';
import { PredictionQueues } from '@predictq/producer';
import type { BenchCase } from './harness.js';
import { predictionJobData } from '../test/utils/job-data.js';

const JOBS = Number(process.env.BENCH_JOBS ?? 400);
const CONCURRENCY = 16;

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

/** `latencyMs`: the simulator's latency per call (0 isolates predictq's own overhead). */
export function uncachedThroughput(redisUrl: string, latencyMs = 0): BenchCase {
  let sim: Awaited<ReturnType<typeof startSim>>;
  let connection: RedisConnection;
  let config: Config;
  const prefix = `bench${randomUUID().slice(0, 6)}`;
  let run = 0;

  return {
    name: `uncached predictions through the worker (${JOBS} jobs, concurrency ${CONCURRENCY}, simulator at ${latencyMs} ms)`,
    unit: 'ops/s',
    runs: Number(process.env.BENCH_RUNS ?? 5),
    // predictq's side runs far more code than the bare worker, and V8 takes longer to optimise
    // it: in 14 alternating 400-job runs at 0 ms the bare worker levelled off from the 3rd run,
    // predictq only from the 6th (331, 619, 648, 755, 778, then 818-970 ops/s). Six warm-ups
    // each make the median a steady-state figure, as a long-running worker sees it.
    warmups: Number(process.env.BENCH_WARMUPS ?? 6),
    baselineName: 'bare BullMQ+openai',
    async setup() {
      sim = await startSim({ latencyMs });
      connection = createQueueConnection(redisUrl);
      config = loadConfig(
        { REDIS_URL: redisUrl, PREDICTQ_KEY_PREFIX: prefix },
        { routes: [{ name: 'default', model: 'sim-small', base_url: sim.url, concurrency: CONCURRENCY }] },
      );
    },
    async baseline() {
      const name = `baseline-${run++}`;
      const client = new OpenAI({ baseURL: sim.url, apiKey: 'sim', maxRetries: 0 });
      const queue = new Queue(name, { connection, prefix: queuePrefix(prefix) });
      const events = new QueueEvents(name, { connection: connection.duplicate(), prefix: queuePrefix(prefix) });
      await events.waitUntilReady();
      const worker = new Worker(
        name,
        async (job) => {
          const res = await client.chat.completions.create({ model: 'sim-small', messages: job.data.messages, max_tokens: job.data.max_tokens });
          return { answer: res.choices[0]?.message.content ?? '' };
        },
        { connection, prefix: queuePrefix(prefix), concurrency: CONCURRENCY },
      );
      const jobs = Array.from({ length: JOBS }, (_, i) => {
        const { messages, params } = preparePrediction(config, predictionJobData({ inputs: { question: `q ${run} ${i}` } }));
        return { name: 'q', data: { messages, max_tokens: params.max_tokens } };
      });
      const rate = await drain(events, JOBS, async () => {
        await queue.addBulk(jobs);
      });
      await worker.close();
      await events.close();
      await queue.obliterate({ force: true });
      await queue.close();
      return rate;
    },
    async subject() {
      run++;
      const logger = createLogger({ name: 'bench', level: 'silent' });
      const worker = createWorker({ config, connection, logger, metrics: createMetrics({ defaultMetrics: false }), secrets: {}, ...(process.env.NOCACHE ? { cache: null } : {}) });
      const queues = new PredictionQueues(config, connection);
      const events = await queues.events('default');
      const rate = await drain(events, JOBS, async () => {
        const data = (i: number) =>
          predictionJobData({ tenant: 'bench', request_id: randomUUID(), inputs: { question: `q ${run} ${i}` }, created_at: Date.now() });
        await queues.queue('default').addBulk(Array.from({ length: JOBS }, (_, i) => ({ name: 'predict', data: data(i) })));
      });
      await worker.close();
      await queues.queue('default').obliterate({ force: true });
      await queues.close();
      return rate;
    },
    async teardown() {
      await connection.quit();
      await sim.close();
    },
  };
}
