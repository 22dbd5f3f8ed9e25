// Local autoscaling for real: `npm start` with PREDICTQ_WORKERS=auto between 1 and 3 worker
// processes. A burst of 2,000 slow predictions (the simulator's latency makes them slow without
// CPU) scales up to max and back to min once drained, losing and aborting nothing; a route at
// its RPM limit never gets more workers than the limit can use.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, autoscaleStats, simFaults, simRequests, startEmbeddedStack, type EmbeddedStack } from './utils/embedded-stack.js';
import { request, until } from './utils/http.js';

const BURST = 2000;
const LATENCY_MS = 1000;

async function queueCounts(stack: EmbeddedStack, route: string): Promise<Record<string, number>> {
  return (await request(`${stack.url}/admin/stats`, { headers: ADMIN })).body.queues[`predict.${route}`];
}

/** Posts `count` distinct predictions (no wait), `parallel` at a time. */
async function submit(stack: EmbeddedStack, count: number, model: string, parallel = 50): Promise<void> {
  for (let i = 0; i < count; i += parallel) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(parallel, count - i) }, (_, j) =>
        request(`${stack.url}/v1/predictions`, { body: { model, signature: 'question -> answer', inputs: { question: `burst ${i + j} ${randomUUID()}` } } }),
      ),
    );
    for (const res of batch) if (res.status !== 202) throw new Error(`submit: ${res.status} ${JSON.stringify(res.body)}`);
  }
}

/** Samples the supervisor's status every 200 ms until stopped. */
function watchSupervisor(stack: EmbeddedStack) {
  const samples: any[] = [];
  let on = true;
  const done = (async () => {
    while (on) {
      const stats = await autoscaleStats(stack).catch(() => undefined);
      if (stats?.supervisor) samples.push(stats.supervisor);
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  return {
    samples,
    stop: async () => {
      on = false;
      await done;
    },
  };
}

describe('npm start with PREDICTQ_WORKERS=auto (1 to 3 workers)', () => {
  let stack: EmbeddedStack;
  beforeAll(async () => {
    stack = await startEmbeddedStack({
      env: { PREDICTQ_WORKERS: 'auto' },
      metricsPorts: 3,
      config: (simUrl) => ({
        routes: [
          { name: 'default', model: 'sim-small', base_url: simUrl, concurrency: 50 },
          // 120 rpm = 2 calls/s; at about 1 s per call that keeps 2 calls in flight: 1 worker of 2 slots.
          { name: 'limited', model: 'sim-large', base_url: simUrl, concurrency: 2, limits: { rpm: 120 } },
        ],
        autoscale: { min: 1, max: 3, interval_ms: 500, scale_up_cooldown_ms: 1000, scale_down_delay_ms: 3000, max_backlog_age_s: 60 },
        queue: { lock_duration_ms: 5000, stalled_interval_ms: 2000 },
        shutdown_timeout_ms: 10_000,
      }),
    });
    await stack.proc.waitForLine(/^\[predictq\] ready:/);
    await simFaults(stack, { latency_ms: LATENCY_MS });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it(`scales a burst of ${BURST} slow predictions up to max, and back to min once drained; none lost, none aborted`, async () => {
    const callsBefore = await simRequests(stack);
    const watch = watchSupervisor(stack);
    const started = Date.now();
    try {
      await submit(stack, BURST, 'default');
      await stack.proc.waitForLine(/^\[predictq\] autoscale: \d -> 3 workers: route default: /, 20_000);
      const counts = await until(async () => {
        const c = await queueCounts(stack, 'default');
        return c.completed! + c.failed! >= BURST ? c : undefined;
      }, 120_000, 500);
      const drainedAfter = Date.now() - started;
      expect(counts).toMatchObject({ completed: BURST, failed: 0, active: 0, waiting: 0, delayed: 0 });
      // Exactly one LM call per prediction: no job was aborted and run again, and none was lost.
      expect((await simRequests(stack)) - callsBefore).toBe(BURST);
      await until(async () => {
        const s = (await autoscaleStats(stack)).supervisor;
        return s.desired === 1 && s.running === 1 && s.draining === 0;
      }, 30_000, 250);
      const backAfter = Date.now() - started;
      const peak = Math.max(...watch.samples.map((s) => s.running));
      expect(peak).toBe(3);
      // Scaled down by draining: each stopped worker exited 0 after finishing its jobs.
      const drained = stack.proc.lines.filter((l) => /^\[predictq\] worker \d drained and stopped/.test(l));
      expect(drained.length).toBeGreaterThanOrEqual(2);
      for (const line of drained) expect(line).toMatch(/\(0\)$/);
      expect(stack.proc.lines.some((l) => /exited \(SIGKILL\)|did not drain|killing it/.test(l))).toBe(false);
      const decisions = stack.proc.lines.filter((l) => l.startsWith('[predictq] autoscale: '));
      console.log(`burst of ${BURST}: drained in ${drainedAfter} ms, back to 1 worker after ${backAfter} ms; decisions:\n${decisions.join('\n')}`);

      // The same signal, for Prometheus and KEDA, on the producer's /metrics.
      const metrics = await (await fetch(`${stack.url}/metrics`)).text();
      expect(metrics).toMatch(/^dspy_workers_desired\{mode="auto"\} 1$/m);
      expect(metrics).toMatch(/^dspy_workers_running\{mode="auto"\} 1$/m);
      expect(metrics).toMatch(/^dspy_queue_backlog\{route="default"\} 0$/m);
      expect(metrics).toMatch(/^dspy_workers_recommended\{route="default"\} 0$/m);
    } finally {
      await watch.stop();
    }
  }, 180_000);

  it('never gives a route at its RPM limit more workers than the limit can use', async () => {
    const watch = watchSupervisor(stack);
    try {
      await submit(stack, 150, 'sim-large');
      // Long enough for several decisions with the limit in force (and LM calls to measure).
      await until(async () => (await queueCounts(stack, 'limited')).completed! >= 6, 20_000, 250);
      await new Promise((r) => setTimeout(r, 3000));
    } finally {
      await watch.stop();
    }
    const limited = watch.samples.map((s) => ({ desired: s.desired, route: s.routes.find((r: any) => r.route === 'limited') }));
    // The jobs asked for far more than the limit can use, and the supervisor held at what it can.
    expect(limited.some((s) => s.route?.wanted > 3 && s.route?.limited_by === 'rpm')).toBe(true);
    const capped = limited.filter((s) => s.route?.limited_by === 'rpm');
    expect(Math.max(...capped.map((s) => s.route.cap))).toBeLessThanOrEqual(2);
    expect(Math.max(...limited.map((s) => s.desired))).toBeLessThanOrEqual(2);
    const reason = capped.at(-1)?.route;
    console.log(`rpm-limited route: wanted up to ${Math.max(...capped.map((s) => s.route.wanted))} workers, cap ${reason?.cap}, desired at most ${Math.max(...limited.map((s) => s.desired))}`);
  }, 60_000);
});
