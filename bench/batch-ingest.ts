// Batch ingest: a BENCH_BATCH_LINES-line file (50,000 by default) uploaded to a producer process
// and ingested (every line checked, then enqueued in addBulk chunks), against raw BullMQ addBulk
// of the same jobs in the same run; and the producer's peak RSS over it all. No worker runs, so
// what is measured is the ingest alone.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { ROOT } from '../test/utils/processes.js';
import { freePort } from '../test/utils/redis-server.js';
import { runCase } from './harness.js';

const LINES = Number(process.env.BENCH_BATCH_LINES ?? 50_000);
const RUNS = Number(process.env.BENCH_BATCH_RUNS ?? process.env.BENCH_RUNS ?? 3);
const CHUNK = 500;

function body(i: number, tag: string) {
  return { model: 'sim-small', messages: [{ role: 'user', content: `Question ${i} of the benchmark: what is ${i} plus ${i}? ${tag}` }], max_tokens: 64 };
}

/** Peak resident memory of a process (Linux: VmHWM), MB. */
function peakRssMb(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

export async function batchIngestBench(redisUrl: string): Promise<void> {
  const port = await freePort();
  const prefix = `bench${randomUUID().slice(0, 6)}`;
  // The producer as its package's start script runs it (built, with its heap cap); the route
  // need not answer: nothing runs the jobs.
  const dir = join(ROOT, 'apps', 'producer');
  const [, ...args] = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start.split(' ');
  const child = spawn(process.execPath, args, {
    cwd: dir,
    env: { ...process.env, REDIS_URL: redisUrl, PREDICTQ_KEY_PREFIX: prefix, PORT: String(port), LOG_LEVEL: 'warn', OPENAI_BASE_URL: 'http://127.0.0.1:1/v1', OPENAI_MODEL: 'sim-small' },
    stdio: 'ignore',
  });
  const producer = { pid: child.pid!, stop: () => new Promise((resolve) => (child.once('exit', resolve), child.kill('SIGTERM'))) };
  for (;;) {
    if (await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const base = `http://127.0.0.1:${port}/v1`;
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const raw = new Queue(`raw-${randomUUID().slice(0, 6)}`, { connection: redis, prefix: `{${prefix}}` });
  try {
    await runCase({
      name: `batch ingest of a ${LINES}-line file (checked, then enqueued in chunks of ${CHUNK}), lines per second`,
      unit: 'ops/s',
      runs: RUNS,
      baselineName: 'raw BullMQ addBulk',
      setup: async () => {},
      baseline: async () => {
        const tag = randomUUID();
        const started = performance.now();
        for (let at = 0; at < LINES; at += CHUNK) {
          await raw.addBulk(Array.from({ length: Math.min(CHUNK, LINES - at) }, (_, i) => ({ name: 'chat', data: { v: 1, kind: 'chat', body: body(at + i, tag) }, opts: { jobId: `${tag}_${at + i}` } })));
        }
        return LINES / ((performance.now() - started) / 1000);
      },
      subject: async () => {
        const tag = randomUUID();
        const text = Array.from({ length: LINES }, (_, i) => JSON.stringify({ custom_id: `r${i}`, method: 'POST', url: '/v1/chat/completions', body: body(i, tag) })).join('\n');
        const form = new FormData();
        form.set('purpose', 'batch');
        form.set('file', new Blob([text]), 'bench.jsonl');
        const file = (await (await fetch(`${base}/files`, { method: 'POST', body: form })).json()) as { id: string };
        const started = performance.now();
        const created = (await (await fetch(`${base}/batches`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' }),
        })).json()) as { id: string };
        for (;;) {
          const batch = (await (await fetch(`${base}/batches/${created.id}`)).json()) as { status: string; ingested: number };
          if (batch.status === 'failed') throw new Error(`the bench batch failed: ${JSON.stringify(batch)}`);
          if (batch.ingested >= LINES) break;
          await new Promise((r) => setTimeout(r, 20));
        }
        return LINES / ((performance.now() - started) / 1000);
      },
      teardown: async () => {},
    });
    console.log(`  producer peak RSS over the uploads and ingests: ${peakRssMb(producer.pid).toFixed(0)} MB (target: under 300 MB)`);
  } finally {
    await raw.obliterate({ force: true }).catch(() => undefined);
    await raw.close();
    redis.disconnect();
    await producer.stop();
  }
}
