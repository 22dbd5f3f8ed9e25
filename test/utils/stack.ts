// A whole predictq stack for a test: its own key prefix on the suite's private Redis, an
// in-process LM simulator, and producer and worker processes.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { startSim } from '@predictq/lm-sim';
import { freePort } from './redis-server.js';
import { until } from './http.js';
import { startApp, type AppProcess } from './processes.js';

export interface StackOptions {
  workers?: number;
  /** Merged into the PREDICTQ_CONFIG file. */
  config?: Record<string, unknown>;
  /** Merged into the default route (e.g. `breaker`, `limits`, `timeout_ms`). */
  route?: Record<string, unknown>;
  /** More routes on the same simulator (each needs `name` and `model`). */
  extraRoutes?: Array<Record<string, unknown>>;
  env?: Record<string, string>;
  redisUrl?: string;
}

export interface Stack {
  url: string;
  redisUrl: string;
  keyPrefix: string;
  sim: Awaited<ReturnType<typeof startSim>>;
  producer: AppProcess;
  workers: AppProcess[];
  env: Record<string, string>;
  startWorker(): Promise<AppProcess>;
  stop(): Promise<void>;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const redisUrl = options.redisUrl ?? inject('redisUrl');
  const keyPrefix = `t${randomUUID().slice(0, 8)}`;
  const sim = await startSim({});
  const dir = mkdtempSync(join(tmpdir(), 'predictq-stack-'));
  const configPath = join(dir, 'config.json');
  writeFileSync(
    configPath,
    JSON.stringify({
      routes: [
        { name: 'default', model: 'sim-small', base_url: sim.url, timeout_ms: 10_000, ...options.route },
        ...(options.extraRoutes ?? []).map((r) => ({ base_url: sim.url, timeout_ms: 10_000, ...r })),
      ],
      queue: { lock_duration_ms: 3000, stalled_interval_ms: 1000, backoff_ms: 200 },
      shutdown_timeout_ms: 5000,
      ...options.config,
    }),
  );
  const port = await freePort();
  const env: Record<string, string> = {
    REDIS_URL: redisUrl,
    PREDICTQ_KEY_PREFIX: keyPrefix,
    PREDICTQ_CONFIG: configPath,
    PORT: String(port),
    WORKER_METRICS_PORT: '0',
    LOG_LEVEL: 'info',
    PREDICTQ_ADMIN_KEY: 'test-admin-key',
    ...options.env,
  };
  const workers: AppProcess[] = [];
  const startWorker = async () => {
    const worker = startApp('worker', env);
    workers.push(worker);
    await worker.waitForLine(/worker ready/);
    return worker;
  };
  const producer = startApp('producer', env);
  const url = `http://127.0.0.1:${port}`;
  await Promise.all([
    // Listening is not ready: a Cluster's slot map takes a moment longer than one Redis.
    producer.waitForLine(/producer listening/).then(() => until(async () => (await fetch(`${url}/ready`)).ok, 20_000, 50)),
    ...Array.from({ length: options.workers ?? 1 }, () => startWorker()),
  ]);
  return {
    url,
    redisUrl,
    keyPrefix,
    sim,
    producer,
    workers,
    env,
    startWorker,
    async stop() {
      await Promise.all([producer.stop(), ...workers.map((w) => w.stop())]);
      await sim.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
