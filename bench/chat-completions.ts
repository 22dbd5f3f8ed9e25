// Chat completions through predictq's queue with the official openai client, against the same
// client calling the simulator directly, in the same run: uncached throughput (simulator at 0 ms)
// and first-token latency of a stream (simulator at BENCH_FIRST_TOKEN_MS to the first token).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import OpenAI from 'openai';
import { createLogger, createMetrics, createProducerConnection, createQueueConnection, loadConfig } from '@predictq/core';
import { startSim } from '@predictq/lm-sim';
import { createApp } from '@predictq/producer';
import { createWorker } from '@predictq/worker';
import { median, runCase } from './harness.js';

const TOTAL = Number(process.env.BENCH_CHAT_REQUESTS ?? 300);
const CONCURRENCY = 16;
const STREAMS = Number(process.env.BENCH_CHAT_STREAMS ?? 30);
const FIRST_TOKEN_MS = Number(process.env.BENCH_FIRST_TOKEN_MS ?? 20);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

export async function chatCompletionsBench(redisUrl: string): Promise<void> {
  const sim = await startSim({});
  const config = loadConfig(
    { REDIS_URL: redisUrl, PREDICTQ_KEY_PREFIX: `bench${randomUUID().slice(0, 6)}` },
    { routes: [{ name: 'default', model: 'sim-small', base_url: sim.url, concurrency: CONCURRENCY }] },
  );
  const logger = createLogger({ name: 'bench', level: 'silent' });
  const producerConnection = createProducerConnection(redisUrl);
  const workerConnection = createQueueConnection(redisUrl);
  const producer = createApp({ config, connection: producerConnection, logger, metrics: createMetrics({ defaultMetrics: false }), secrets: {} });
  const worker = createWorker({ config, connection: workerConnection, logger, metrics: createMetrics({ defaultMetrics: false }), secrets: {} });
  const server = createServer(producer.listener).listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const through = new OpenAI({ baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, apiKey: 'x', maxRetries: 0 });
  const direct = new OpenAI({ baseURL: sim.url, apiKey: 'sim', maxRetries: 0 });
  const messages = () => [{ role: 'user' as const, content: `What is the capital of France? ${randomUUID()}` }];

  const throughput = async (client: OpenAI) => {
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next++ < TOTAL) await client.chat.completions.create({ model: 'sim-small', messages: messages() });
      }),
    );
    return TOTAL / ((performance.now() - started) / 1000);
  };
  const firstToken = async (client: OpenAI) => {
    const times: number[] = [];
    for (let i = 0; i < STREAMS; i++) {
      const started = performance.now();
      const stream = await client.chat.completions.create({ model: 'sim-small', messages: messages(), stream: true });
      let first = 0;
      for await (const chunk of stream) if (!first && chunk.choices[0]?.delta.content) first = performance.now() - started;
      times.push(first);
    }
    return median(times);
  };

  try {
    await runCase({
      name: `chat completions through the queue (uncached, simulator at 0 ms): ${TOTAL} requests, ${CONCURRENCY} at a time`,
      unit: 'ops/s',
      runs: RUNS,
      baselineName: 'direct sim call',
      setup: async () => {},
      baseline: () => throughput(direct),
      subject: () => throughput(through),
      teardown: async () => {},
    });
    await runCase({
      name: `streamed chat completion: first-token latency, median of ${STREAMS} sequential streams (simulator: ${FIRST_TOKEN_MS} ms to the first token)`,
      unit: 'ms',
      runs: RUNS,
      baselineName: 'direct sim stream',
      setup: async () => void sim.state.faults.update({ latency_ms: FIRST_TOKEN_MS }),
      baseline: () => firstToken(direct),
      subject: () => firstToken(through),
      teardown: async () => void sim.state.faults.update({ latency_ms: 0 }),
    });
  } finally {
    await worker.close(5000);
    await new Promise((resolve) => server.close(resolve));
    await producer.close();
    await producerConnection.quit();
    await workerConnection.quit();
    await sim.close();
  }
}
