// A route's circuit breaker. opossum counts this worker's calls in its rolling window and
// decides when the failure rate is too high; the shared state in Redis (BreakerStore) decides
// who may call: an open breaker stops every worker at its next call, and after the reset
// timeout a single probe call cluster-wide either closes it or opens it again.
//
// Only upstream-health failures count (5xx, timeouts, connection errors); a 4xx the request
// caused, a 429 or a cancelled call does not. Waiting for an open breaker is a WaitError
// (lm_circuit_open): the job goes back to the queue without spending an attempt.
import CircuitBreaker from 'opossum';
import { LmError, WaitError } from '../errors/index.js';
import type { BreakerSettings } from '../config/index.js';
import { withJitter } from './backoff.js';
import type { BreakerStore } from './breaker-store.js';
import type { BreakerState, ResilienceEvents } from './resilience-events.js';

type Action = () => Promise<unknown>;

/** Whether a call was admitted normally or as the cluster's one probe. */
export type BreakerTicket = 'call' | 'probe';

export function isUpstreamFailure(err: unknown): boolean {
  return err instanceof LmError && err.isUpstreamFailure;
}

export interface RouteBreakerOptions {
  route: string;
  settings: BreakerSettings;
  /** The call timeout: a probe's lease lasts this long (plus a margin). */
  callTimeoutMs: number;
  store: BreakerStore;
  events: ResilienceEvents;
}

export class RouteBreaker {
  readonly route: string;
  readonly #settings: BreakerSettings;
  readonly #probeLeaseMs: number;
  readonly #store: BreakerStore;
  readonly #events: ResilienceEvents;
  readonly #cb: CircuitBreaker<[Action], unknown>;
  /** Set while we move opossum to follow the shared state (so that is not re-published). */
  #following = false;
  /** The Redis write of a local open, awaited before the next admission. */
  #publishing: Promise<unknown> | undefined;
  #state: BreakerState = 'closed';

  constructor(options: RouteBreakerOptions) {
    this.route = options.route;
    this.#settings = options.settings;
    this.#probeLeaseMs = options.callTimeoutMs + 1000;
    this.#store = options.store;
    this.#events = options.events;
    this.#cb = new CircuitBreaker((action: Action) => action(), {
      // The call has its own timeout (an AbortSignal per call); opossum's would abort every call.
      timeout: false,
      errorThresholdPercentage: options.settings.error_threshold_percentage,
      volumeThreshold: options.settings.volume_threshold,
      resetTimeout: options.settings.reset_timeout_ms,
      rollingCountTimeout: options.settings.rolling_window_ms,
      rollingCountBuckets: 10,
      // true = "not a failure": only upstream-health failures count.
      errorFilter: (err: unknown) => !isUpstreamFailure(err),
    });
    this.#cb.on('open', () => {
      if (this.#following) return;
      this.#setState('open', 'local');
      const publishing = this.#store
        .open(this.route, this.#settings.reset_timeout_ms, 'failures')
        .catch(() => undefined)
        .finally(() => {
          if (this.#publishing === publishing) this.#publishing = undefined;
        });
      this.#publishing = publishing;
    });
  }

  get state(): BreakerState {
    return this.#state;
  }

  /** Throws WaitError(lm_circuit_open) while the route's breaker is open anywhere in the cluster. */
  async admit(): Promise<BreakerTicket> {
    return (await this.enter()).ticket;
  }

  /** admit(), also telling how long an LM 429 pauses the route (read in the same round trip). */
  async enter(): Promise<{ ticket: BreakerTicket; pausedMs: number }> {
    if (this.#publishing) await this.#publishing;
    const verdict = await this.#store.admit(this.route, this.#probeLeaseMs);
    switch (verdict.state) {
      case 'closed':
        this.#follow('closed', 'cluster');
        return { ticket: 'call', pausedMs: verdict.pausedMs };
      case 'probe':
        this.#setState('half_open', 'cluster');
        return { ticket: 'probe', pausedMs: verdict.pausedMs };
      case 'open':
        this.#follow('open', 'cluster');
        throw this.#wait(verdict.waitMs);
      case 'probing':
        this.#follow('open', 'cluster', 'half_open');
        // Come back soon after the probe is likely done, not after its whole lease.
        throw this.#wait(Math.min(verdict.waitMs, Math.max(100, this.#settings.reset_timeout_ms / 4)));
    }
  }

  /** Runs an admitted call, counting its outcome (a probe's outcome decides for the cluster). */
  async call<T>(ticket: BreakerTicket, action: () => Promise<T>): Promise<T> {
    return ticket === 'probe' ? this.#probe(action) : this.#call(action);
  }

  async #call<T>(action: () => Promise<T>): Promise<T> {
    try {
      return (await this.#cb.fire(action)) as T;
    } catch (err) {
      if ((err as { code?: unknown }).code === 'EOPENBREAKER') throw this.#wait(this.#settings.reset_timeout_ms);
      if (isUpstreamFailure(err) && this.#cb.opened) {
        // The breaker opened meanwhile (maybe on this very failure): wait rather than spend an attempt.
        if (this.#publishing) await this.#publishing;
        throw this.#wait(this.#settings.reset_timeout_ms, err);
      }
      throw err;
    }
  }

  async #probe<T>(action: () => Promise<T>): Promise<T> {
    let result: T;
    try {
      result = await action();
    } catch (err) {
      if (isUpstreamFailure(err)) {
        await this.#store.open(this.route, this.#settings.reset_timeout_ms, 'probe');
        this.#follow('open', 'probe');
        throw this.#wait(this.#settings.reset_timeout_ms, err);
      }
      if (err instanceof LmError) {
        // The LM answered (a 4xx or a 429): it is up.
        await this.#close();
      } else {
        // Cancelled or a bug on our side: no verdict; let another worker probe.
        await this.#store.releaseProbe(this.route);
      }
      throw err;
    }
    await this.#close();
    return result;
  }

  /** Gives the probe lease back unused (the call waits for a rate window instead). */
  async releaseProbe(): Promise<void> {
    await this.#store.releaseProbe(this.route);
  }

  async #close(): Promise<void> {
    await this.#store.close(this.route);
    this.#follow('closed', 'probe');
  }

  /** Moves opossum (and the reported state) to the shared state without publishing it back. */
  #follow(state: 'open' | 'closed', source: 'cluster' | 'probe', shown: BreakerState = state): void {
    this.#following = true;
    try {
      if (state === 'open') this.#cb.open();
      else this.#cb.close();
    } finally {
      this.#following = false;
    }
    this.#setState(shown, source);
  }

  #setState(state: BreakerState, source: 'local' | 'cluster' | 'probe'): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#events.emit('breaker:state', { route: this.route, state, source });
  }

  #wait(ms: number, cause?: unknown): WaitError {
    return new WaitError('lm_circuit_open', `the circuit breaker of route "${this.route}" is open`, withJitter(ms), 'circuit_open', {
      ...(cause === undefined ? {} : { cause }),
    });
  }

  /** Stops opossum's timers. */
  shutdown(): void {
    this.#cb.shutdown();
  }
}
