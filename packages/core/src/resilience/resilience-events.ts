// Typed resilience events: breaker state changes. Metrics and logs subscribe to these
// (apps/worker/src/resilience-observers.ts); waits are counted from the pipeline's outcome.
import { EventEmitter } from 'node:events';

export type BreakerState = 'closed' | 'open' | 'half_open';

export interface BreakerStateEvent {
  route: string;
  state: BreakerState;
  /** `local`: this worker's failure rate opened it; `cluster`: it follows the shared state. */
  source: 'local' | 'cluster' | 'probe';
}

export interface ResilienceEventMap {
  'breaker:state': [BreakerStateEvent];
}

export class ResilienceEvents extends EventEmitter<ResilienceEventMap> {}
