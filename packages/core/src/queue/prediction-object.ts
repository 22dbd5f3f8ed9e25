// The prediction object of DESIGN.md's contract, as the API returns it and as a webhook event
// carries it. The producer builds it from a job snapshot; a worker from a final outcome.
import type { PredictionJobData, PredictionResult } from './schemas.js';

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
