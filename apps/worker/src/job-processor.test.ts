// The job processor against real BullMQ on a real Redis: each outcome becomes the BullMQ move it
// names, and only `retry` spends an attempt.
import { randomUUID } from 'node:crypto';
import { Queue, QueueEvents, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { PredictqError, WaitError, type Outcome, type PredictionPipeline, type PredictionResult } from '@predictq/core';
import { until } from '../../../test/utils/http.js';
import { createJobProcessor } from './job-processor.js';

declare module 'vitest' {
  // Provided by test/utils/global-setup.ts (a private redis-server for the whole run).
  export interface ProvidedContext {
    redisUrl: string;
  }
}

const RESULT = { outputs: { answer: 'Paris' } } as unknown as PredictionResult;

describe('job processor (real BullMQ)', () => {
  const prefix = `{t${randomUUID().slice(0, 8)}}`;
  const name = 'outcomes';
  let connection: Redis;
  let queue: Queue;
  let events: QueueEvents;
  let worker: Worker;
  /** What the fake pipeline answers, per job id and run. */
  const script = new Map<string, Outcome[]>();
  const runs = new Map<string, number>();

  beforeAll(async () => {
    connection = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
    queue = new Queue(name, { connection, prefix });
    events = new QueueEvents(name, { connection: connection.duplicate(), prefix });
    await events.waitUntilReady();
    const pipeline = {
      run: async (_data: unknown, ctx: { jobId: string }) => {
        const n = runs.get(ctx.jobId) ?? 0;
        runs.set(ctx.jobId, n + 1);
        const outcomes = script.get(ctx.jobId)!;
        return outcomes[Math.min(n, outcomes.length - 1)]!;
      },
    } as unknown as PredictionPipeline;
    worker = new Worker(name, createJobProcessor(pipeline), { connection: connection.duplicate(), prefix, concurrency: 4 });
  });

  afterAll(async () => {
    await worker.close();
    await events.close();
    await queue.obliterate({ force: true });
    await queue.close();
    connection.disconnect();
  });

  async function run(outcomes: Outcome[], attempts = 3): Promise<Job> {
    const id = randomUUID();
    script.set(id, outcomes);
    return queue.add('predict', {}, { jobId: id, attempts, backoff: { type: 'fixed', delay: 10 } });
  }

  it('ok: completes with the result as the return value', async () => {
    const job = await run([{ kind: 'ok', result: RESULT }]);
    expect(await job.waitUntilFinished(events, 10_000)).toEqual(RESULT);
  });

  it('wait: goes to delayed until the time named, without spending an attempt', async () => {
    const until_ = Date.now() + 60_000;
    const wait = new WaitError('lm_circuit_open', 'open', 60_000, 'circuit_open');
    const job = await run([{ kind: 'wait', until: until_, reason: 'circuit_open', error: wait }]);
    await until(async () => (await queue.getJobState(job.id!)) === 'delayed');
    const fresh = (await queue.getJob(job.id!))!;
    expect(fresh.attemptsMade).toBe(0);
    expect(fresh.timestamp + fresh.delay).toBeGreaterThanOrEqual(until_ - 1000);
  });

  it('retry: spends an attempt and runs again; fail: ends at once with "code: message"', async () => {
    const error = new PredictqError('lm_upstream_error', 'boom');
    const retried = await run([{ kind: 'retry', error }, { kind: 'ok', result: RESULT }]);
    expect(await retried.waitUntilFinished(events, 10_000)).toEqual(RESULT);
    expect((await queue.getJob(retried.id!))!.attemptsMade).toBe(2); // the failed attempt and the one that succeeded

    const failed = await run([{ kind: 'fail', error: new PredictqError('lm_client_error', 'rejected') }], 5);
    await expect(failed.waitUntilFinished(events, 10_000)).rejects.toThrow('lm_client_error: rejected');
    const after = (await queue.getJob(failed.id!))!;
    expect(after.attemptsMade).toBe(1);
    expect(runs.get(failed.id!)).toBe(1);
  });
});
