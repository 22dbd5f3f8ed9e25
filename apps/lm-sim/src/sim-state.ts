// The simulator's mutable state: statistics, faults and the requests still waiting, so a
// reset or a shutdown can reach all of them.
import { FaultInjector } from './faults.js';
import type { ResolvedSimOptions } from './options.js';
import { SimStats, type Clock } from './stats.js';

/** Request bodies kept for GET /sim/requests, newest last. */
const RECENT_REQUESTS = 32;
/** Larger bodies are kept as a note of their size only. */
const RECENT_BODY_BYTES = 64 * 1024;

/** The last few chat completion bodies, so tests can see what reached the LM. */
export class RecentRequests {
  private readonly bodies: unknown[] = [];

  add(body: unknown): void {
    const size = JSON.stringify(body)?.length ?? 0;
    this.bodies.push(size <= RECENT_BODY_BYTES ? body : { omitted: true, bytes: size });
    if (this.bodies.length > RECENT_REQUESTS) this.bodies.shift();
  }

  list(): unknown[] {
    return [...this.bodies];
  }

  clear(): void {
    this.bodies.length = 0;
  }
}

export class SimState {
  readonly stats: SimStats;
  readonly faults: FaultInjector;
  readonly models: readonly string[];
  readonly clock: Clock;
  readonly recent = new RecentRequests();
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
    this.recent.clear();
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
