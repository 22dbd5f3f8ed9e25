// Waiting is never failing: a backlog behind a rate limit waits as long as it must, and only a
// prediction's deadline ends a wait (deadline_exceeded, counted and logged as failed).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, until } from './utils/http.js';
import { workerMetrics } from './utils/processes.js';
import { statuses } from './utils/resilience.js';
import { startStack, type Stack } from './utils/stack.js';

describe('deadlines instead of a wait count', () => {
  let stack: Stack;
  beforeAll(async () => {
    // 240 a minute is 4 a second: 30 jobs wait for many windows each.
    stack = await startStack({ workers: 1, route: { limits: { rpm: 240 }, concurrency: 30 } });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const submit = (n: number, extra: Record<string, unknown> = {}) =>
    Promise.all(
      Array.from({ length: n }, async () => {
        const res = await request(`${stack.url}/v1/predictions`, {
          body: { signature: 'question -> answer', inputs: { question: `backlog ${randomUUID()}` }, ...extra },
        });
        expect(res.status).toBe(202);
        return res.body.id as string;
      }),
    );

  it('lets a backlog far longer than a handful of waits finish without one failure', async () => {
    const ids = await submit(30);
    const final = await until(async () => {
      const counts = await statuses(stack, ids);
      return (counts.succeeded ?? 0) + (counts.failed ?? 0) === ids.length ? counts : undefined;
    }, 60_000, 500);
    expect(final).toEqual({ succeeded: 30 });
    const metrics = await workerMetrics(stack.workers[0]!);
    expect(metrics).toMatch(/dspy_lm_waits_total\{route="default",reason="rate_window"\} [1-9]/);
    expect(metrics).not.toMatch(/dspy_predictions_total\{model="sim-small",status="failed"\}/);
  });

  it('fails what cannot run by its deadline with deadline_exceeded naming the wait, counted and logged as failed', async () => {
    const ids = await submit(12, { deadline_s: 1 });
    const failed = await until(async () => {
      const reads = await Promise.all(ids.map((id) => request(`${stack.url}/v1/predictions/${id}`)));
      const done = reads.filter((r) => r.body.status === 'succeeded' || r.body.status === 'failed');
      return done.length === ids.length ? reads.filter((r) => r.body.status === 'failed') : undefined;
    }, 30_000, 250);
    // 4 a second with a 1 s deadline: most of the twelve cannot get a window in time.
    expect(failed.length).toBeGreaterThanOrEqual(5);
    for (const res of failed) {
      expect(res.body.error.code).toBe('deadline_exceeded');
      expect(res.body.error.message).toMatch(/deadline/);
    }
    const metrics = await workerMetrics(stack.workers[0]!);
    const count = Number(/dspy_predictions_total\{model="sim-small",status="failed"\} (\d+)/.exec(metrics)?.[1] ?? 0);
    expect(count).toBe(failed.length);
    // Log lines reach us in blocks, up to LOG_FLUSH_MS after they were written.
    const failedLines = () => stack.workers[0]!.lines.filter((l) => l.includes('"prediction failed"') && l.includes('deadline_exceeded'));
    const logged = await until(async () => failedLines().length >= failed.length && failedLines());
    expect(logged).toHaveLength(failed.length);
  });
});
