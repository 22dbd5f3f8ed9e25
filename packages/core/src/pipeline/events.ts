// Typed pipeline events. Metrics, logs and cost records subscribe to these instead of being
// sprinkled through the stages.
import { EventEmitter } from 'node:events';
import type { CacheLevel } from '../cache/index.js';
import type { LmUsage } from '../lm/index.js';
import type { ChatJobData, ChatResult, PredictionJobData } from '../queue/index.js';
import type { Outcome } from './outcome.js';

export interface LmCallEvent {
  route: string;
  model: string;
  outcome: 'ok' | 'timeout' | 'rate_limited' | 'upstream_error' | 'client_error' | 'connection_error' | 'cancelled';
  durationMs: number;
  usage?: LmUsage;
}

/** The cache stage's verdict for one prediction. */
export interface CacheLookupEvent {
  route: string;
  model: string;
  outcome: 'hit' | 'miss' | 'bypass' | 'refresh';
  level: CacheLevel | null;
}

/** How one run of a prediction job ended: the outcome the job processor acts on. */
export interface OutcomeEvent {
  jobId: string;
  /** Undefined when the job data could not be read. */
  data: PredictionJobData | undefined;
  outcome: Outcome;
  durationMs: number;
}

/** How one run of a chat completion job ended. */
export interface ChatOutcomeEvent {
  jobId: string;
  data: ChatJobData | undefined;
  outcome: Outcome<ChatResult>;
  durationMs: number;
}

/** A ChatAdapter reply that did not parse, asked again in JSONAdapter's format. */
export interface AdapterFallbackEvent {
  route: string;
  model: string;
}

export interface PipelineEventMap {
  'lm:call': [LmCallEvent];
  'cache:lookup': [CacheLookupEvent];
  'prediction:outcome': [OutcomeEvent];
  'chat:outcome': [ChatOutcomeEvent];
  'adapter:fallback': [AdapterFallbackEvent];
}

export class PipelineEvents extends EventEmitter<PipelineEventMap> {}
