// The simulator's mutable state: statistics, faults and the requests still waiting, so a
// reset or a shutdown can reach all of them.
import { FaultInjector } from './faults.js';
import type { ResolvedSimOptions } from './options.js';
import { RequestLog } from './request-log.js';
import { SimStats, type Clock } from './stats.js';

export class SimState {
  readonly stats: SimStats;
  readonly faults: FaultInjector;
  /** The last requests answered (GET /sim/requests). */
  readonly requests = new RequestLog();
  readonly models: readonly string[];
  readonly clock: Clock;
  private readonly pending = new Set<AbortController>();

  constructor(options: ResolvedSimOptions) {
    this.clock = options.clock;
    this.models = options.models;
    this.stats = new SimStats(options.clock);
    this.faults = new FaultInjector(options.initialFaults);
  }

  /** Clears statistics and restores the start-up faults (and the PRNG sequence). */
  reset(): void {
    this.stats.reset();
    this.faults.reset();
    this.requests.reset();
  }

  /** Registers a waiting request; the returned function unregisters it. */
  track(controller: AbortController): () => void {
    this.pending.add(controller);
    return () => this.pending.delete(controller);
  }

  /** Ends every wait (latency or hang) at once, for shutdown. */
  abortPending(): void {
    for (const controller of this.pending) controller.abort();
    this.pending.clear();
  }
}
