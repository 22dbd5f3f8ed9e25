// Maps the pipeline's one outcome to BullMQ, and decides nothing itself: ok is the return value,
// wait moves the job to delayed without spending an attempt (DelayedError), retry spends one (a
// plain error: BullMQ's backoff), fail ends it (UnrecoverableError). Between the two, the notify
// step (outcome-notifier.ts) turns a final outcome into its webhook event first.
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import { JOB_NAMES, encodeJobError, type ChatResult, type Outcome, type PredictionPipeline, type PredictionResult } from '@predictq/core';

/** What the queue knows about this run of the job, for the pipeline's decision. */
export function jobContext(job: Job, signal?: AbortSignal) {
  return {
    jobId: job.id ?? 'unknown',
    enqueuedAt: job.timestamp,
    lastAttempt: job.attemptsMade + 1 >= (job.opts.attempts ?? 1),
    ...(signal ? { signal } : {}),
  };
}

export async function applyOutcome<R>(job: Job, token: string | undefined, outcome: Outcome<R>): Promise<R> {
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

/**
 * What must happen between a final outcome and the job's end (a batch result, a webhook event):
 * a step may turn the outcome into a wait when it cannot do its part yet.
 */
export type OutcomeStep = <R extends PredictionResult | ChatResult>(job: Job, outcome: Outcome<R>) => Promise<Outcome<R>>;

export function createJobProcessor(pipeline: PredictionPipeline, ...steps: OutcomeStep[]) {
  const after = async <R extends PredictionResult | ChatResult>(job: Job, outcome: Outcome<R>): Promise<Outcome<R>> => {
    let current = outcome;
    for (const step of steps) current = await step(job, current);
    return current;
  };
  return async (job: Job, token?: string, signal?: AbortSignal): Promise<PredictionResult | ChatResult> => {
    const ctx = jobContext(job, signal);
    if (job.name === JOB_NAMES.chat) return applyOutcome(job, token, await after(job, await pipeline.chat(job.data, ctx)));
    return applyOutcome(job, token, await after(job, await pipeline.run(job.data, ctx)));
  };
}
