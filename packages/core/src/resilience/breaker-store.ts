// The cluster-wide side of a route's circuit breaker: one Redis hash per route
// (`${prefix}:breaker:{${route}}`) that every worker consults before an LM call, so when one
// worker opens the breaker the others stop, and a probe lease (breaker-admit-2.lua) lets one
// call per reset period through cluster-wide. The same script reads the route's 429 pause (its
// key shares the route's hash tag), so admission is one round trip.
//
// Most of the time the answer is "closed, not paused", and asking Redis before every call costs
// a round trip per prediction. With a subscriber, a process keeps that answer for a route and
// reuses it: opening a breaker and pausing a route publish the route's name
// (breakerChannel), and every process drops its copy at once, so the others stop within a
// message's delay instead of at their next call. The copy is also dropped when the subscriber
// connection drops, and is never older than LOCAL_VERDICT_MS (the bound on a missed message).
import type { RedisConnection } from '../queue/connection.js';
import { defineScripts } from '../redis/index.js';
import { breakerChannel, routePauseKey } from './route-keys.js';
import type { BreakerState } from './resilience-events.js';

/** What the shared breaker says about calling a route now. */
export type BreakerVerdict =
  | { state: 'closed' }
  | { state: 'open'; waitMs: number }
  /** Half-open, and another worker holds the probe lease for `waitMs` more. */
  | { state: 'probing'; waitMs: number }
  /** Half-open, and this caller holds the probe lease. */
  | { state: 'probe' };

/** The verdict, and how long the route stays paused by an LM 429 (ms; 0 or less: not paused). */
export type BreakerAdmission = BreakerVerdict & { pausedMs: number };

export interface BreakerSnapshot {
  state: BreakerState;
  opened_at: number | null;
  /** When one probe call is let through (ms since the epoch); null while closed. */
  retry_at: number | null;
  reason: string | null;
}

interface BreakerCommands {
  predictqBreakerAdmit(key: string, pauseKey: string, probeLeaseMs: number): Promise<[number, number, number]>;
  predictqBreakerOpen(key: string, resetMs: number, ttlMs: number, reason: string, channel: string, route: string): Promise<number>;
}

/** How long a process reuses a "closed" read without asking Redis again (messages drop it sooner). */
export const LOCAL_VERDICT_MS = 1000;

export interface BreakerStoreOptions {
  /** A connection to subscribe on (it can run nothing else then); without it, every admission asks Redis. */
  subscriber?: RedisConnection | undefined;
  /** Monotonic milliseconds, for the local copy's age. */
  now?: () => number;
}

/** A route read as closed: when, and until when an LM 429 pauses it (0: not paused). */
interface ClosedVerdict {
  readAt: number;
  pausedUntil: number;
}

/** An open breaker's hash outlives its reset timeout by this much, then closes by itself. */
const ABANDONED_AFTER_MS = 3600_000;

export class BreakerStore {
  readonly #redis: RedisConnection & BreakerCommands;
  readonly #prefix: string;
  readonly #keyPrefix: string;
  readonly #channel: string;
  readonly #now: () => number;
  /** Per route, the admission on its way to Redis (bounded by the configured routes). */
  readonly #pending = new Map<string, Promise<BreakerAdmission>>();
  /** Per route, the last "closed" read, kept only while the subscription is live. */
  readonly #closed = new Map<string, ClosedVerdict>();
  /** Copies dropped so far: a read asked before the latest drop may be older than the change. */
  #drops = 0;
  #subscriber: RedisConnection | undefined;
  #listening = false;

  constructor(redis: RedisConnection, keyPrefix: string, options: BreakerStoreOptions = {}) {
    this.#redis = defineScripts(redis, import.meta.url, {
      predictqBreakerAdmit: './lua/breaker-admit-2.lua',
      predictqBreakerOpen: './lua/breaker-open-1.lua',
    }) as unknown as RedisConnection & BreakerCommands;
    this.#prefix = `${keyPrefix}:breaker:`;
    this.#keyPrefix = keyPrefix;
    this.#channel = breakerChannel(keyPrefix);
    this.#now = options.now ?? (() => performance.now());
    if (options.subscriber) this.#listen(options.subscriber);
  }

  /** Whether admissions may be answered from this process's copy (the subscription is live). */
  get listening(): boolean {
    return this.#listening && this.#subscriber?.status === 'ready';
  }

  #listen(subscriber: RedisConnection): void {
    this.#subscriber = subscriber;
    const forgetAll = () => {
      this.#closed.clear();
      this.#drops++;
    };
    subscriber.on('message', (channel: string, route: string) => {
      if (channel === this.#channel) this.forget(route);
    });
    // Messages sent while the connection was down are lost: start again from Redis.
    subscriber.on('close', forgetAll);
    subscriber.on('ready', forgetAll);
    subscriber
      .subscribe(this.#channel)
      .then(() => {
        forgetAll();
        this.#listening = true;
      })
      .catch(() => undefined);
  }

  /** Drops this process's copy of the route's verdict: the next admission asks Redis. */
  forget(route: string): void {
    this.#closed.delete(route);
    this.#drops++;
  }

  /**
   * Runs a write that makes the route stop (an open, a 429 pause), dropping this process's copy
   * before it and again once it is done: a read answered while the write was on its way may
   * predate it, and this process need not wait for its own message.
   */
  async changing<T>(route: string, write: () => Promise<T>): Promise<T> {
    this.forget(route);
    try {
      return await write();
    } finally {
      this.forget(route);
    }
  }

  /** Hash-tagged by route, as the route's pause key is (one script reads both). */
  key(route: string): string {
    return `${this.#prefix}{${route}}`;
  }

  /**
   * The shared verdict. Callers that ask while the same route's admission is on its way to Redis
   * share its answer (it is no older than their own read would be) unless it handed out the probe
   * lease, which is its caller's alone: the others then ask for themselves.
   */
  async admit(route: string, probeLeaseMs: number): Promise<BreakerAdmission> {
    const known = this.#closed.get(route);
    if (known) {
      const now = this.#now();
      if (now - known.readAt < LOCAL_VERDICT_MS && this.listening) return { state: 'closed', pausedMs: known.pausedUntil - now };
      this.#closed.delete(route);
    }
    const pending = this.#pending.get(route);
    if (pending) {
      const shared = await pending.catch(() => undefined);
      if (shared && shared.state !== 'probe') return shared;
    }
    const asking = this.#ask(route, probeLeaseMs);
    this.#pending.set(route, asking);
    try {
      return await asking;
    } finally {
      if (this.#pending.get(route) === asking) this.#pending.delete(route);
    }
  }

  async #ask(route: string, probeLeaseMs: number): Promise<BreakerAdmission> {
    const asked = this.#now();
    const drops = this.#drops;
    const [state, ms, pausedMs] = await this.#redis.predictqBreakerAdmit(this.key(route), routePauseKey(this.#keyPrefix, route), Math.ceil(probeLeaseMs));
    switch (state) {
      case 0:
        // Not kept when a change was heard while this read was on its way: it may predate it.
        if (this.listening && this.#drops === drops) {
          this.#closed.set(route, { readAt: asked, pausedUntil: pausedMs > 0 ? this.#now() + pausedMs : 0 });
        }
        return { state: 'closed', pausedMs };
      case 1:
        return { state: 'open', waitMs: ms, pausedMs };
      case 2:
        return { state: 'probing', waitMs: ms, pausedMs };
      default:
        return { state: 'probe', pausedMs };
    }
  }

  /** Opens the breaker for every worker; returns when it half-opens (ms since the epoch). */
  async open(route: string, resetMs: number, reason: 'failures' | 'probe'): Promise<number> {
    return this.changing(route, () =>
      this.#redis.predictqBreakerOpen(this.key(route), Math.ceil(resetMs), Math.ceil(resetMs) + ABANDONED_AFTER_MS, reason, this.#channel, route),
    );
  }

  /** Closes the breaker for every worker (a probe succeeded, or an operator reset it). */
  async close(route: string): Promise<void> {
    await this.#redis.del(this.key(route));
  }

  /** Gives the probe lease back without a verdict (the probe was cancelled). */
  async releaseProbe(route: string): Promise<void> {
    await this.#redis.hdel(this.key(route), 'probe_until');
  }

  async snapshot(route: string, now: number = Date.now()): Promise<BreakerSnapshot> {
    const hash = await this.#redis.hgetall(this.key(route));
    const openUntil = hash.until === undefined ? undefined : Number(hash.until);
    if (openUntil === undefined) return { state: 'closed', opened_at: null, retry_at: null, reason: null };
    return {
      state: now < openUntil ? 'open' : 'half_open',
      opened_at: hash.opened_at === undefined ? null : Number(hash.opened_at),
      retry_at: openUntil,
      reason: hash.reason ?? null,
    };
  }
}
