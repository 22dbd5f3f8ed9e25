// Maps the pipeline's one outcome to BullMQ, and decides nothing itself: ok is the return value,
// wait moves the job to delayed without spending an attempt (DelayedError), retry spends one (a
// plain error: BullMQ's backoff), fail ends it (UnrecoverableError). Between the two, the notify
// step (outcome-notifier.ts) turns a final outcome into its webhook event first.
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import type { OutcomeNotifier } from './outcome-notifier.js';
import { encodeJobError, type Outcome, type PredictionPipeline, type PredictionResult } from '@predictq/core';

/** What the queue knows about this run of the job, for the pipeline's decision. */
export function jobContext(job: Job, signal?: AbortSignal) {
  return {
    jobId: job.id ?? 'unknown',
    enqueuedAt: job.timestamp,
    lastAttempt: job.attemptsMade + 1 >= (job.opts.attempts ?? 1),
    ...(signal ? { signal } : {}),
  };
}

export async function applyOutcome(job: Job, token: string | undefined, outcome: Outcome): Promise<PredictionResult> {
  switch (outcome.kind) {
    case 'ok':
      return outcome.result;
    case 'wait':
      await job.moveToDelayed(outcome.until, token);
      throw new DelayedError();
    case 'retry':
      throw new Error(encodeJobError(outcome.error));
    case 'fail':
      throw new UnrecoverableError(encodeJobError(outcome.error));
  }
}

export function createJobProcessor(pipeline: PredictionPipeline, notify?: OutcomeNotifier) {
  return async (job: Job, token?: string, signal?: AbortSignal): Promise<PredictionResult> => {
    const outcome = await pipeline.run(job.data, jobContext(job, signal));
    return applyOutcome(job, token, notify ? await notify(job, outcome) : outcome);
  };
}
