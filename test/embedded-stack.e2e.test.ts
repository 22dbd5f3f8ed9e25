// `npm start` (scripts/start.mjs, running the built apps) as a real process: the simulator runs
// whenever a route points at it; a worker killed with kill -9 under load is restarted while the
// producer keeps answering and no prediction is lost; SIGTERM lets running jobs finish before
// anything stops; start-up errors name the setting instead of stopping the stack.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest';
import { Queue } from 'bullmq';
import { createQueueConnection, predictionQueueName, queuePrefix } from '@predictq/core';
import { ADMIN, isAlive, simFaults, simRequests, startEmbeddedStack, type EmbeddedStack } from './utils/embedded-stack.js';
import { request, until } from './utils/http.js';
import { holdPort, freePortRun, type HeldPort } from './utils/ports.js';

/** A prediction no cache can answer, so a worker has to run it. */
function predict(url: string, wait = 20) {
  return request(`${url}/v1/predictions`, {
    headers: wait > 0 ? { Prefer: `wait=${wait}` } : {},
    body: { signature: 'question -> answer', inputs: { question: `who serves this? ${randomUUID()}` } },
  });
}

async function workersReady(stack: EmbeddedStack, count: number) {
  await stack.proc.waitForLine(/^\[predictq\] ready:/);
  await until(async () => stack.proc.lines.filter((l) => l.includes('worker ready')).length >= count);
}

async function queueCounts(stack: EmbeddedStack): Promise<Record<string, number>> {
  return (await request(`${stack.url}/admin/stats`, { headers: ADMIN })).body.queues['predict.default'];
}

describe('npm start with a config file without routes, and two workers', () => {
  const SHUTDOWN_MS = 8000;
  let stack: EmbeddedStack;
  beforeAll(async () => {
    stack = await startEmbeddedStack({
      config: { queue: { lock_duration_ms: 3000, stalled_interval_ms: 1000 }, shutdown_timeout_ms: SHUTDOWN_MS },
    });
    await workersReady(stack, 2);
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('starts the simulator the default route points at, and a prediction succeeds', async () => {
    const res = await predict(stack.url);
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('succeeded');
    expect(stack.proc.lines.some((l) => l.startsWith('[predictq] started lm-sim (pid '))).toBe(true);
  });

  it('restarts a worker killed with kill -9 under load; the producer never stops answering and no prediction is lost', async () => {
    await simFaults(stack, { latency_ms: 300 });
    // The producer is asked for its health all along; every answer must be a 200.
    const health = { ok: 0, failed: 0 };
    let probing = true;
    const prober = (async () => {
      while (probing) {
        const res = await fetch(`${stack.url}/health`).catch(() => undefined);
        if (res?.status === 200) health.ok += 1;
        else health.failed += 1;
        await new Promise((r) => setTimeout(r, 25));
      }
    })();
    const ids: string[] = [];
    const submit = async (count: number) => {
      for (let i = 0; i < count; i += 25) {
        const batch = await Promise.all(Array.from({ length: 25 }, () => predict(stack.url, 0)));
        for (const res of batch) {
          expect(res.status).toBe(202);
          ids.push(res.body.id);
        }
      }
    };
    const before = await queueCounts(stack);
    try {
      await submit(150);
      // Kill worker 1 while it runs jobs.
      await until(async () => (await queueCounts(stack)).active! > 4, 10_000, 50);
      const killed = stack.pid('worker 1');
      process.kill(killed, 'SIGKILL');
      await stack.proc.waitForLine(/^\[predictq\] worker 1 exited \(SIGKILL\); restarting it in 1000 ms\. The producer and 1 other worker keep running\.$/);
      await submit(150);
      await until(async () => stack.pid('worker 1') !== killed, 10_000);
      expect(isAlive(killed)).toBe(false);
      await until(async () => stack.proc.lines.filter((l) => l.includes('worker ready')).length >= 3, 20_000);
      const counts = await until(async () => {
        const c = await queueCounts(stack);
        return c.completed! + c.failed! - before.completed! - before.failed! >= ids.length ? c : undefined;
      }, 60_000, 250);
      expect(counts.failed).toBe(before.failed);
    } finally {
      probing = false;
      await prober;
      await simFaults(stack, { latency_ms: 0 });
    }
    // 300 accepted, 300 succeeded: the killed worker's jobs ran again on another worker.
    const statuses = new Map<string, number>();
    for (let i = 0; i < ids.length; i += 50) {
      const reads = await Promise.all(ids.slice(i, i + 50).map((id) => request(`${stack.url}/v1/predictions/${id}`)));
      for (const r of reads) statuses.set(r.body.status, (statuses.get(r.body.status) ?? 0) + 1);
    }
    expect(Object.fromEntries(statuses)).toEqual({ succeeded: 300 });
    expect(health.failed).toBe(0);
    expect(health.ok).toBeGreaterThan(20);
    expect(await simRequests(stack)).toBeGreaterThanOrEqual(300);
    expect(stack.proc.child.exitCode).toBeNull();
    console.log(`kill -9 under load: ${health.ok} health checks answered 200 (0 failed), 300/300 predictions succeeded, ${await simRequests(stack)} LM calls`);
  }, 120_000);

  it('on SIGTERM lets a running prediction finish (longer than the old 3 s give-up), then stops everything', async () => {
    await simFaults(stack, { latency_ms: 5000 });
    const created = await predict(stack.url, 0);
    await until(async () => (await request(`${stack.url}/v1/predictions/${created.body.id}`)).body.status === 'running', 10_000, 50);
    const pids = stack.pids();
    const started = Date.now();
    stack.proc.child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => stack.proc.child.once('exit', resolve));
    const took = Date.now() - started;
    expect(code).toBe(0);
    expect(took).toBeLessThan(SHUTDOWN_MS + 5000);
    expect(stack.proc.lines).toContain(`[predictq] stopping: the producer and the workers finish their jobs (up to ${SHUTDOWN_MS} ms)`);
    for (const pid of pids) expect(isAlive(pid), `pid ${pid}`).toBe(false);
    // The job finished and kept its result (read from Redis: the stack is gone).
    const connection = createQueueConnection(inject('redisUrl'));
    const queue = new Queue(predictionQueueName('default'), { connection, prefix: queuePrefix(stack.keyPrefix) });
    try {
      const job = await queue.getJob(created.body.id);
      expect(await job!.getState()).toBe('completed');
      expect(job!.returnvalue.outputs.answer).toEqual(expect.any(String));
    } finally {
      await queue.close();
      connection.disconnect();
    }
    console.log(`SIGTERM with a 5 s prediction running: it completed, and the stack exited 0 after ${took} ms`);
  }, 30_000);
});

describe('npm start with a worker metrics port already taken', () => {
  let stack: EmbeddedStack;
  let held: HeldPort;
  beforeAll(async () => {
    // Worker 1 gets the held port, worker 2 the free one after it.
    held = await holdPort(await freePortRun(2));
    stack = await startEmbeddedStack({ env: { WORKER_METRICS_PORT: String(held.port) } });
    await workersReady(stack, 1);
  });
  afterAll(async () => {
    await stack?.stop();
    await held?.release();
  });

  it('stops that worker with a message naming WORKER_METRICS_PORT, does not restart it, and the rest keep serving', async () => {
    await stack.proc.waitForLine(new RegExp(`^predictq worker: WORKER_METRICS_PORT ${held.port} is already in use; set WORKER_METRICS_PORT `));
    await stack.proc.waitForLine(
      /^\[predictq\] worker 1 exited \(2\): a setting is wrong \(see its message above\); not restarting it\. The producer and 1 other worker keep running\.$/,
    );
    const res = await predict(stack.url);
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('succeeded');
    expect(stack.proc.lines.filter((l) => l.startsWith('[predictq] started worker 1 '))).toHaveLength(1);
    expect(stack.proc.child.exitCode).toBeNull();
  });
});

describe('npm start with a bad setting', () => {
  for (const [name, env, message] of [
    ['a config file that is not JSON', { config: '{"routes": [' }, /^\[predictq\] PREDICTQ_CONFIG: .* is not a JSON object/m],
    ['a bad PREDICTQ_WORKERS', { env: { PREDICTQ_WORKERS: 'lots' } }, /^\[predictq\] PREDICTQ_WORKERS must be "auto" or a whole number from 1 to 64, got "lots"$/m],
  ] as const) {
    it(`exits 2 with the message for ${name}, before starting anything`, async () => {
      const stack = await startEmbeddedStack(
        'config' in env ? { env: { PREDICTQ_CONFIG: writeRaw(env.config) } } : { env: env.env },
      );
      // Runs even when the test times out waiting for an exit that never comes.
      onTestFinished(() => stack.stop());
      const code = await new Promise<number | null>((resolve) => stack.proc.child.once('close', resolve));
      expect(code).toBe(2);
      expect(stack.proc.lines.join('\n')).toMatch(message);
      expect(stack.proc.lines.some((l) => l.startsWith('[predictq] started '))).toBe(false);
      expect(stack.proc.lines.some((l) => /^\s+at /.test(l))).toBe(false);
    });
  }
});

function writeRaw(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'predictq-embedded-'));
  const path = join(dir, 'config.json');
  writeFileSync(path, text);
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return path;
}
