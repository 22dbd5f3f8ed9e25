// Everything between a cache miss and the LM, per route: RPM/TPM admission, the circuit
// breaker, the call's timeout (an AbortSignal that the job's cancellation aborts too), token
// correction after the call, and the route pause after a 429. Waiting is a WaitError, never
// a failure.
import type { RedisConnection } from '../queue/connection.js';
import type { Config, RouteConfig } from '../config/index.js';
import { LmError } from '../errors/index.js';
import { BreakerStore } from './breaker-store.js';
import { callSignal } from './call-signal.js';
import { DEFAULT_429_PAUSE_MS, RateLimits } from './rate-limits.js';
import { ResilienceEvents } from './resilience-events.js';
import { RouteBreaker } from './route-breaker.js';

export interface GuardedCall<T> {
  route: RouteConfig;
  /** Prompt + max_tokens, for TPM admission; corrected by `usedTokens` after the call. */
  /** Read only when the route has a TPM limit. */
  estimatedTokens: () => number;
  /** The job's signal: cancelling the job aborts the call. */
  signal?: AbortSignal;
  call(signal: AbortSignal): Promise<T>;
  usedTokens(result: T): number;
}

export interface LmGuardDeps {
  config: Config;
  /** Any non-blocking Redis connection (the worker's BullMQ connection will do). */
  redis: RedisConnection;
  /**
   * A connection to subscribe on (it can then run nothing else; others may subscribe on it too).
   * With it, "closed, not paused" is answered without a round trip while no change is heard
   * (BreakerStore); without it, every call asks Redis.
   */
  subscriber?: RedisConnection | undefined;
  events?: ResilienceEvents;
}

export function callTimeoutMs(route: RouteConfig): number {
  return route.breaker.timeout_ms ?? route.timeout_ms;
}

export class LmGuard {
  readonly events: ResilienceEvents;
  readonly breakers: ReadonlyMap<string, RouteBreaker>;
  readonly limits: RateLimits;
  readonly #store: BreakerStore;

  constructor(deps: LmGuardDeps) {
    const { config, redis } = deps;
    this.events = deps.events ?? new ResilienceEvents();
    const store = new BreakerStore(redis, config.key_prefix, { subscriber: deps.subscriber });
    this.#store = store;
    this.breakers = new Map(
      config.routes.map((route) => [
        route.name,
        new RouteBreaker({ route: route.name, settings: route.breaker, callTimeoutMs: callTimeoutMs(route), store, events: this.events }),
      ]),
    );
    this.limits = new RateLimits(redis, config.key_prefix, config.routes);
  }

  async run<T>(request: GuardedCall<T>): Promise<T> {
    const { route } = request;
    const breaker = this.breakers.get(route.name);
    if (!breaker) throw new Error(`no breaker for route ${route.name}`);
    // Breaker first: an open breaker spends no rate, and the rate windows are taken right
    // before the call, so what the LM sees follows them closely. The 429-pause read changes
    // nothing, so the breaker's admission script reads it in the same round trip.
    const { ticket, pausedMs } = await breaker.enter();
    let admission;
    try {
      admission = await this.limits.admit(route.name, request.estimatedTokens, pausedMs);
    } catch (err) {
      if (ticket === 'probe') await breaker.releaseProbe();
      throw err;
    }
    const { signal, dispose } = callSignal(callTimeoutMs(route), request.signal);
    try {
      const result = await breaker.call(ticket, () => request.call(signal));
      await this.limits.settle(admission, request.usedTokens(result));
      return result;
    } catch (err) {
      await this.limits.settle(admission, 0);
      if (err instanceof LmError && err.code === 'lm_rate_limited') {
        throw await this.#store.changing(route.name, () => this.limits.pause(route.name, err.retryAfterMs ?? DEFAULT_429_PAUSE_MS));
      }
      throw err;
    } finally {
      dispose();
    }
  }

  close(): void {
    for (const breaker of this.breakers.values()) breaker.shutdown();
  }
}
