// Typed pipeline events. Metrics, logs and cost records subscribe to these instead of being
// sprinkled through the stages.
import { EventEmitter } from 'node:events';
import type { CostEventMap } from '../cost/index.js';
import type { PredictqError } from '../errors/index.js';
import type { LmUsage } from '../lm/index.js';
import type { PredictionJobData, PredictionResult } from '../queue/index.js';
import type { CACHE_LEVELS } from '../telemetry/metrics.js';

export interface LmCallEvent {
  route: string;
  model: string;
  outcome: 'ok' | 'timeout' | 'rate_limited' | 'upstream_error' | 'client_error' | 'connection_error' | 'cancelled';
  durationMs: number;
  usage?: LmUsage;
}

/** The cache stage's verdict for one prediction (cache/cache-stage.ts). */
export interface CacheLookupEvent {
  route: string;
  model: string;
  outcome: 'hit' | 'miss' | 'bypass' | 'refresh';
  level: (typeof CACHE_LEVELS)[number] | null;
}

export interface PredictionEvent {
  jobId: string;
  data: PredictionJobData;
  durationMs: number;
  result?: PredictionResult;
  error?: PredictqError;
  /** On failure: the queue will run this job again (a retryable error with attempts left). */
  willRetry?: boolean;
}

/** Cost and budget events (cost:*, budget:*) come from the cost stage (cost/cost-events.ts). */
export interface PipelineEventMap extends CostEventMap {
  'lm:call': [LmCallEvent];
  'cache:lookup': [CacheLookupEvent];
  'prediction:succeeded': [PredictionEvent];
  'prediction:failed': [PredictionEvent];
}

export class PipelineEvents extends EventEmitter<PipelineEventMap> {}
