// Turns the pipeline's outcome into BullMQ's language: a return value, an error that spends
// an attempt, or UnrecoverableError for what retrying cannot fix.
import { UnrecoverableError, type Job } from 'bullmq';
import {
  LmError,
  PredictionJobDataSchema,
  PredictqError,
  encodeJobError,
  type PredictionPipeline,
  type PredictionResult,
} from '@predictq/core';

function retryable(err: PredictqError): boolean {
  if (err instanceof LmError) return err.retryable;
  return err.code === 'internal_error' || err.code === 'service_unavailable';
}

export function createJobProcessor(pipeline: PredictionPipeline) {
  return async (job: Job, _token?: string, signal?: AbortSignal): Promise<PredictionResult> => {
    const parsed = PredictionJobDataSchema.safeParse(job.data);
    if (!parsed.success) {
      throw new UnrecoverableError(encodeJobError(new PredictqError('invalid_request', 'the job data is malformed')));
    }
    try {
      return await pipeline.run(parsed.data, {
        jobId: job.id ?? 'unknown',
        enqueuedAt: job.timestamp,
        ...(signal ? { signal } : {}),
      });
    } catch (err) {
      const error = err instanceof PredictqError ? err : new PredictqError('internal_error', 'unexpected failure');
      if (retryable(error)) throw new Error(encodeJobError(error));
      throw new UnrecoverableError(encodeJobError(error));
    }
  };
}
