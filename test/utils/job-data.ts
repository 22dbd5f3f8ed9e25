// A minimal valid prediction job, for tests and benchmarks that feed the pipeline directly.
import type { PredictionJobData } from '@predictq/core';

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
