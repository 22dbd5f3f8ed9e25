// Cache hits: latency (median and p99 of sequential requests) and throughput (concurrent
// requests) of a hit answered by the producer's fast path and of a hit answered by a worker
// from its L1, each against a direct call to the simulator at 0 ms latency, in the same run.
import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import OpenAI from 'openai';
import { createLogger, createMetrics, createQueueConnection, loadConfig, type Config, type RedisConnection } from '@predictq/core';
import { startSim } from '@predictq/lm-sim';
import { createApp, type ProducerApp } from '@predictq/producer';
import { createWorker, type PredictqWorker } from '@predictq/worker';
import { median, percentile, runCase, type BenchCase } from './harness.js';

const SEQUENTIAL = Number(process.env.BENCH_CACHE_REQUESTS ?? 200);
const CONCURRENT = Number(process.env.BENCH_CACHE_CONCURRENT_REQUESTS ?? 400);
const CONCURRENCY = 16;
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const QUESTION = 'What is the capital of France?';

interface Fixture {
  sim: Awaited<ReturnType<typeof startSim>>;
  connection: RedisConnection;
  apps: ProducerApp[];
  servers: Server[];
  worker: PredictqWorker;
  /** Base URLs: the producer with the fast path, and one without (every hit goes through a worker). */
  fastUrl: string;
  workerUrl: string;
  direct: OpenAI;
}

async function listen(app: ProducerApp): Promise<{ server: Server; url: string }> {
  const server = createServer(app.listener).listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function setup(redisUrl: string): Promise<Fixture> {
  const sim = await startSim({});
  const connection = createQueueConnection(redisUrl);
  const prefix = `bench${randomUUID().slice(0, 6)}`;
  const make = (fastPath: boolean): Config =>
    loadConfig(
      { REDIS_URL: redisUrl, PREDICTQ_KEY_PREFIX: prefix },
      {
        routes: [{ name: 'default', model: 'sim-small', base_url: sim.url, concurrency: CONCURRENCY }],
        cache: { producer_fast_path: fastPath },
      },
    );
  const logger = createLogger({ name: 'bench', level: 'silent' });
  const deps = (config: Config) => ({ config, connection, logger, metrics: createMetrics({ defaultMetrics: false }), secrets: {} });
  const apps = [createApp(deps(make(true))), createApp(deps(make(false)))];
  const listening = await Promise.all(apps.map(listen));
  const worker = createWorker(deps(make(false)));
  const fixture: Fixture = {
    sim,
    connection,
    apps,
    servers: listening.map((l) => l.server),
    worker,
    fastUrl: listening[0]!.url,
    workerUrl: listening[1]!.url,
    direct: new OpenAI({ baseURL: sim.url, apiKey: 'sim', maxRetries: 0 }),
  };
  // The producer's fail-fast connection refuses commands until it has connected.
  for (const url of [fixture.fastUrl, fixture.workerUrl]) {
    while (!(await fetch(`${url}/ready`)).ok) await new Promise((r) => setTimeout(r, 50));
  }
  // Prime the cache: one real LM call fills L2 and the worker's L1.
  const primed = await predict(fixture.workerUrl);
  if (primed.status !== 'succeeded') throw new Error(`priming failed: ${JSON.stringify(primed)}`);
  // The fast path's first answer comes from L2 and is kept in the producer's own L1.
  const first = await predict(fixture.fastUrl);
  if (first.cache.level !== 'redis') throw new Error(`the fast path's first answer was not from L2: ${JSON.stringify(first.cache)}`);
  return fixture;
}

async function predict(base: string): Promise<{ status: string; cache: { level: string | null } }> {
  const res = await fetch(`${base}/v1/predictions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', prefer: 'wait=10' },
    body: JSON.stringify({ signature: 'question -> answer', inputs: { question: QUESTION } }),
  });
  return (await res.json()) as { status: string; cache: { level: string | null } };
}

function predictAt(base: string, level: string): () => Promise<void> {
  return async () => {
    const body = await predict(base);
    if (body.cache.level !== level) throw new Error(`expected a ${level} hit, got ${JSON.stringify(body.cache)}`);
  };
}

function directCall(f: Fixture): () => Promise<void> {
  return async () => {
    await f.direct.chat.completions.create({ model: 'sim-small', messages: [{ role: 'user', content: QUESTION }] });
  };
}

async function latencies(op: () => Promise<void>, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    await op();
    out.push(performance.now() - started);
  }
  return out;
}

async function throughput(op: () => Promise<void>, total: number, concurrency: number): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < total) await op();
    }),
  );
  return total / ((performance.now() - started) / 1000);
}

/** A latency case whose runs report medians; p99s are collected on the side and printed after. */
function latencyCase(name: string, subject: () => Promise<void>, baseline: () => Promise<void>): { bench: BenchCase; p99: { subject: number[]; baseline: number[] } } {
  const p99 = { subject: [] as number[], baseline: [] as number[] };
  const measure = (op: () => Promise<void>, into: number[]) => async () => {
    const values = await latencies(op, SEQUENTIAL);
    into.push(percentile(values, 99));
    return median(values);
  };
  return {
    p99,
    bench: {
      name: `${name}: latency, median of ${SEQUENTIAL} sequential requests`,
      unit: 'ms',
      runs: RUNS,
      baselineName: 'direct sim call',
      setup: async () => {},
      baseline: measure(baseline, p99.baseline),
      subject: measure(subject, p99.subject),
      teardown: async () => {},
    },
  };
}

function throughputCase(name: string, subject: () => Promise<void>, baseline: () => Promise<void>): BenchCase {
  return {
    name: `${name}: throughput, ${CONCURRENT} requests, ${CONCURRENCY} at a time`,
    unit: 'ops/s',
    runs: RUNS,
    baselineName: 'direct sim call',
    setup: async () => {},
    baseline: () => throughput(baseline, CONCURRENT, CONCURRENCY),
    subject: () => throughput(subject, CONCURRENT, CONCURRENCY),
    teardown: async () => {},
  };
}

export async function cacheHitBench(redisUrl: string): Promise<void> {
  const f = await setup(redisUrl);
  try {
    const paths = [
      { name: "cache hit via the producer fast path (the producer's L1, no job)", op: predictAt(f.fastUrl, 'memory') },
      { name: 'cache hit via a worker (level memory, one BullMQ job)', op: predictAt(f.workerUrl, 'memory') },
    ];
    for (const path of paths) {
      const latency = latencyCase(path.name, path.op, directCall(f));
      await runCase(latency.bench);
      const s = median(latency.p99.subject);
      const b = median(latency.p99.baseline);
      console.log(`  p99: predictq ${s.toFixed(2)} ms, direct sim call ${b.toFixed(2)} ms, ratio ${(s / b).toFixed(2)}`);
      await runCase(throughputCase(path.name, path.op, directCall(f)));
    }
  } finally {
    await f.worker.close(5000);
    await Promise.all(f.servers.map((s) => new Promise((r) => s.close(r))));
    await Promise.all(f.apps.map((a) => a.close()));
    await f.connection.quit();
    await f.sim.close();
  }
}
