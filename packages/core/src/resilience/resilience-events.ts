// Typed resilience events: breaker state changes and jobs sent back to wait. Metrics and logs
// subscribe to these (apps/worker/src/observers.ts).
import { EventEmitter } from 'node:events';

export type BreakerState = 'closed' | 'open' | 'half_open';

/** Why a job went back to the queue without spending an attempt. */
export const WAIT_REASONS = ['circuit_open', 'rate_window', 'lm_429'] as const;
export type WaitReason = (typeof WAIT_REASONS)[number];

export interface BreakerStateEvent {
  route: string;
  state: BreakerState;
  /** `local`: this worker's failure rate opened it; `cluster`: it follows the shared state. */
  source: 'local' | 'cluster' | 'probe';
}

export interface WaitEvent {
  route: string;
  reason: WaitReason;
  delayMs: number;
}

export interface ResilienceEventMap {
  'breaker:state': [BreakerStateEvent];
  wait: [WaitEvent];
}

export class ResilienceEvents extends EventEmitter<ResilienceEventMap> {}
