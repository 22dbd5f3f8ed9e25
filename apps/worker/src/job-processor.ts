// Turns the pipeline's outcome into BullMQ's language: a return value, an error that spends
// an attempt, a requeue that spends none (WaitError -> moveToDelayed + DelayedError), or
// UnrecoverableError for what retrying cannot fix.
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import {
  PredictionJobDataSchema,
  PredictqError,
  WaitError,
  isRetryable,
  encodeJobError,
  type PredictionPipeline,
  type PredictionResult,
} from '@predictq/core';

export interface JobProcessorOptions {
  /** Requeues (waits) a job may take in all before it fails with the wait's code. */
  maxRequeues: number;
}

/** Times this job went back to the queue without spending an attempt. */
export function requeuesOf(job: Job): number {
  // attemptsStarted counts every move to active; attemptsMade only real failures.
  return Math.max(0, (job.attemptsStarted ?? 0) - (job.attemptsMade ?? 0) - 1);
}

export function createJobProcessor(pipeline: PredictionPipeline, options: JobProcessorOptions) {
  return async (job: Job, token?: string, signal?: AbortSignal): Promise<PredictionResult> => {
    const parsed = PredictionJobDataSchema.safeParse(job.data);
    if (!parsed.success) {
      throw new UnrecoverableError(encodeJobError(new PredictqError('invalid_request', 'the job data is malformed')));
    }
    try {
      return await pipeline.run(parsed.data, {
        jobId: job.id ?? 'unknown',
        enqueuedAt: job.timestamp,
        lastAttempt: job.attemptsMade + 1 >= (job.opts.attempts ?? 1),
        ...(signal ? { signal } : {}),
      });
    } catch (err) {
      const error = err instanceof PredictqError ? err : new PredictqError('internal_error', 'unexpected failure');
      if (error instanceof WaitError) {
        if (requeuesOf(job) >= options.maxRequeues) {
          throw new UnrecoverableError(encodeJobError(error));
        }
        await job.moveToDelayed(Date.now() + error.delayMs, token);
        throw new DelayedError();
      }
      if (isRetryable(error)) throw new Error(encodeJobError(error));
      throw new UnrecoverableError(encodeJobError(error));
    }
  };
}
