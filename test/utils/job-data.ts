// A minimal valid prediction job, for tests and benchmarks that feed the pipeline directly.
import type { PredictionJobData, PredictionResult } from '@predictq/core';

export function predictionJobData(overrides: Partial<PredictionJobData> = {}): PredictionJobData {
  return {
    v: 1,
    tenant: 'default',
    request_id: 'req-1',
    program: null,
    program_version: null,
    module: 'Predict',
    signature: 'question -> answer',
    demos: [],
    inputs: { question: 'what is predictq?' },
    route: 'default',
    model: 'sim-small',
    params: {},
    cache: 'default',
    priority: 'interactive',
    variant: null,
    created_at: 0,
    ...overrides,
  };
}

/** A minimal valid prediction result (what a prediction job returns). */
export function predictionResult(overrides: Partial<PredictionResult> = {}): PredictionResult {
  return {
    outputs: { answer: 'an answer' },
    usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
    cost_usd: 0,
    cache: { hit: false, level: null },
    degraded: false,
    variant: null,
    program_version: null,
    model: 'sim-small',
    route: 'default',
    finish_reason: 'stop',
    timings: { queue_ms: 0, lm_ms: 0, total_ms: 0 },
    completed_at: 0,
    ...overrides,
  };
}
