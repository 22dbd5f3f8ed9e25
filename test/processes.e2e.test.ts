// Process life cycle: a bad setting or a taken port stops start-up naming it; SIGTERM lets
// active jobs finish while the worker's readiness probe says it is going.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest';
import { request, until } from './utils/http.js';
import { holdPort } from './utils/ports.js';
import { startApp, workerMetricsUrl } from './utils/processes.js';
import { startStack, type Stack } from './utils/stack.js';

describe('start-up with a bad setting', () => {
  for (const app of ['producer', 'worker'] as const) {
    it(`${app} exits with code 2 and names the setting`, async () => {
      const proc = startApp(app, { WORKER_METRICS_PORT: 'nine', PORT: 'nine', REDIS_URL: 'redis://127.0.0.1:1' });
      const code = await new Promise<number | null>((resolve) => proc.child.once('exit', resolve));
      expect(code).toBe(2);
      expect(proc.lines.join('\n')).toMatch(/(PORT|WORKER_METRICS_PORT) must be a whole number/);
    });
  }
});

describe('start-up with a taken port', () => {
  const cases = [
    { app: 'producer', setting: 'PORT' },
    { app: 'worker', setting: 'WORKER_METRICS_PORT' },
  ] as const;
  for (const { app, setting } of cases) {
    it(`${app} exits with code 2 and names ${setting}`, async () => {
      const held = await holdPort();
      const proc = startApp(app, {
        REDIS_URL: inject('redisUrl'),
        PREDICTQ_KEY_PREFIX: `t${randomUUID().slice(0, 8)}`,
        PORT: '0',
        WORKER_METRICS_PORT: '0',
        [setting]: String(held.port),
      });
      // Runs even when the test times out waiting for an exit that never comes.
      onTestFinished(async () => {
        await proc.stop('SIGKILL');
        await held.release();
      });
      const code = await new Promise<number | null>((resolve) => proc.child.once('close', resolve));
      expect(code).toBe(2);
      expect(proc.lines.join('\n')).toMatch(new RegExp(`^predictq ${app}: ${setting} ${held.port} is already in use; set ${setting} `, 'm'));
    });
  }
});

describe('graceful shutdown', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ workers: 1 });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('SIGTERM lets the active job finish, then the worker exits 0', async () => {
    stack.sim.state.faults.update({ latency_ms: 1500 });
    const created = await request(`${stack.url}/v1/predictions`, {
      body: { signature: 'question -> answer', inputs: { question: 'finish before you go' } },
    });
    await until(async () => (await request(`${stack.url}/v1/predictions/${created.body.id}`)).body.status === 'running');
    // The probes Kubernetes uses: both 200 while it runs; readiness drops as soon as it is closing.
    const base = (await workerMetricsUrl(stack.workers[0]!)).replace(/\/metrics$/, '');
    expect((await request(`${base}/health`)).status).toBe(200);
    expect((await request(`${base}/ready`)).body).toEqual({ status: 'ready' });
    const stopped = stack.workers[0]!.stop('SIGTERM');
    const notReady = await until(async () => {
      const res = await request(`${base}/ready`).catch(() => undefined);
      return res?.status === 503 ? res : undefined;
    }, 5000, 20);
    expect(notReady.body.error.code).toBe('service_unavailable');
    const code = await stopped;
    expect(code).toBe(0);
    const after = await request(`${stack.url}/v1/predictions/${created.body.id}`);
    expect(after.body.status).toBe('succeeded');
    expect(stack.workers[0]!.lines.some((l) => l.includes('shutting down'))).toBe(true);
  });
});
