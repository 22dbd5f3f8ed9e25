// Typed pipeline events. Metrics, logs and cost records subscribe to these instead of being
// sprinkled through the stages.
import { EventEmitter } from 'node:events';
import type { PredictqError } from '../errors/index.js';
import type { LmUsage } from '../lm/index.js';
import type { PredictionJobData, PredictionResult } from '../queue/index.js';

export interface LmCallEvent {
  route: string;
  model: string;
  outcome: 'ok' | 'timeout' | 'rate_limited' | 'upstream_error' | 'client_error' | 'connection_error' | 'cancelled';
  durationMs: number;
  usage?: LmUsage;
}

export interface PredictionEvent {
  jobId: string;
  data: PredictionJobData;
  durationMs: number;
  result?: PredictionResult;
  error?: PredictqError;
}

export interface PipelineEventMap {
  'lm:call': [LmCallEvent];
  'prediction:succeeded': [PredictionEvent];
  'prediction:failed': [PredictionEvent];
}

export class PipelineEvents extends EventEmitter<PipelineEventMap> {}
