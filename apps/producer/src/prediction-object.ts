// A prediction object from a BullMQ job (the source of truth) as one atomic read saw it.
import {
  PredictionResultSchema,
  decodeJobError,
  predictionObject,
  type PredictionObject,
  type PredictionStatus,
} from '@predictq/core';
import type { JobSnapshot } from './prediction-queues.js';

export { predictionObject, type PredictionObject, type PredictionStatus };

const STATUS: Record<JobSnapshot['state'], PredictionStatus> = {
  queued: 'queued',
  active: 'running',
  completed: 'succeeded',
  failed: 'failed',
};

export function predictionFromSnapshot({ job, state }: JobSnapshot): PredictionObject {
  const status = STATUS[state];
  const id = job.id ?? '';
  const finished = job.finishedOn ? { finishedOn: job.finishedOn } : {};
  if (status === 'succeeded') {
    const parsed = PredictionResultSchema.safeParse(job.returnvalue);
    if (parsed.success) return predictionObject(id, job.data, status, { result: parsed.data });
    return predictionObject(id, job.data, 'failed', {
      error: { code: 'internal_error', message: 'the stored result is unreadable' },
      ...finished,
    });
  }
  if (status === 'failed') {
    const error = decodeJobError(job.failedReason);
    // A running job the client cancelled fails with `cancelled`: it reads as cancelled.
    return predictionObject(id, job.data, error.code === 'cancelled' ? 'cancelled' : status, { error, ...finished });
  }
  return predictionObject(id, job.data, status);
}
