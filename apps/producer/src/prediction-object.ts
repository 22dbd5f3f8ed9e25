// The prediction object of DESIGN.md's contract, built from a BullMQ job (the source of truth)
// as one atomic read saw it.
import {
  PredictionResultSchema,
  decodeJobError,
  type PredictionJobData,
  type PredictionResult,
} from '@predictq/core';
import type { JobSnapshot } from './prediction-queues.js';

export type PredictionStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface PredictionObject {
  id: string;
  object: 'prediction';
  status: PredictionStatus;
  program: string | null;
  program_version: string | null;
  variant: string | null;
  model: string;
  outputs: Record<string, unknown> | null;
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | null;
  cost_usd: number | null;
  cache: { hit: boolean; level: PredictionResult['cache']['level'] };
  degraded: boolean;
  error: { code: string; message: string } | null;
  created_at: number;
  completed_at: number | null;
  duration_ms: number | null;
  request_id: string;
  metadata: Record<string, string>;
}

const seconds = (ms: number) => Math.floor(ms / 1000);

const STATUS: Record<JobSnapshot['state'], PredictionStatus> = {
  queued: 'queued',
  active: 'running',
  completed: 'succeeded',
  failed: 'failed',
};

export function predictionObject(
  id: string,
  data: PredictionJobData,
  status: PredictionStatus,
  extra: { result?: PredictionResult; error?: { code: string; message: string }; finishedOn?: number } = {},
): PredictionObject {
  const { result } = extra;
  const completedAt = result?.completed_at ?? extra.finishedOn;
  return {
    id,
    object: 'prediction',
    status,
    program: data.program,
    program_version: result?.program_version ?? data.program_version,
    variant: result?.variant ?? data.variant,
    model: result?.model ?? data.model,
    outputs: result?.outputs ?? null,
    usage: result?.usage ?? null,
    cost_usd: result?.cost_usd ?? null,
    cache: result?.cache ?? { hit: false, level: null },
    degraded: result?.degraded ?? false,
    error: extra.error ?? null,
    created_at: seconds(data.created_at),
    completed_at: completedAt === undefined ? null : seconds(completedAt),
    duration_ms: completedAt === undefined ? null : Math.max(0, completedAt - data.created_at),
    request_id: data.request_id,
    metadata: data.metadata ?? {},
  };
}

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
