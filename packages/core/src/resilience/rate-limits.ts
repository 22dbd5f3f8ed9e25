// RPM/TPM admission for LM calls, shared by every worker through Redis (rate-limiter-flexible),
// and route pauses after an LM 429. Over a limit, the job waits (WaitError lm_rate_limited)
// until the window allows; it never fails for it. Only calls that reach the LM are counted:
// cache hits never come here.
import type { RedisConnection } from '../queue/connection.js';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { PredictqError, WaitError, type WaitReason } from '../errors/index.js';
import type { RouteConfig } from '../config/index.js';
import { withJitter } from './backoff.js';
import { defineScripts } from '../redis/index.js';
import { breakerChannel, routePauseKey } from './route-keys.js';

interface RouteLimiters {
  /** rpm spread over the minute: at most ceil(rpm / 60) in one second. */
  perSecond?: RateLimiterRedis;
  perMinute?: RateLimiterRedis;
  tokens?: RateLimiterRedis;
  tpm?: number;
}

/** What one admitted call holds, to settle or refund afterwards. */
export interface RateAdmission {
  route: string;
  requests: RateLimiterRedis[];
  tokens: number;
}

interface PauseCommands {
  predictqPauseRoute(key: string, ms: number, channel: string, route: string): Promise<number>;
}

/** Pause after a 429 that named no retry-after. */
export const DEFAULT_429_PAUSE_MS = 1000;

export class RateLimits {
  readonly #redis: RedisConnection & PauseCommands;
  readonly #keyPrefix: string;
  readonly #limiters = new Map<string, RouteLimiters>();

  constructor(redis: RedisConnection, keyPrefix: string, routes: readonly RouteConfig[]) {
    this.#redis = defineScripts(redis, import.meta.url, { predictqPauseRoute: './lua/pause-route-1.lua' }) as unknown as RedisConnection &
      PauseCommands;
    this.#keyPrefix = keyPrefix;
    const limiter = (name: string, points: number, duration: number) =>
      new RateLimiterRedis({ storeClient: redis, keyPrefix: `${keyPrefix}:rl:${name}`, points, duration });
    for (const route of routes) {
      const { rpm, tpm } = route.limits;
      this.#limiters.set(route.name, {
        ...(rpm ? { perSecond: limiter('rps', Math.ceil(rpm / 60), 1), perMinute: limiter('rpm', rpm, 60) } : {}),
        ...(tpm ? { tokens: limiter('tpm', tpm, 60), tpm } : {}),
      });
    }
  }

  /** How long the route stays paused by an LM 429 (ms; 0 or less: not paused). */
  async pausedFor(route: string): Promise<number> {
    return this.#redis.pttl(routePauseKey(this.#keyPrefix, route));
  }

  /**
   * Waits (throws WaitError) while the route is paused by a 429 or a window is spent.
   * `pausedMs`: the caller already read the pause (the breaker's admission reads it too).
   * `estimatedTokens` is asked only on a route with a TPM limit (counting is a tokenizer pass).
   */
  async admit(route: string, estimatedTokens: () => number, pausedMs?: number): Promise<RateAdmission> {
    const paused = pausedMs ?? (await this.pausedFor(route));
    if (paused > 0) throw this.#wait(route, 'lm_429', paused);
    const limiters = this.#limiters.get(route) ?? {};
    const admission: RateAdmission = { route, requests: [], tokens: 0 };
    // A rejected consume still adds its points (rate-limiter-flexible keeps counting): give them back too.
    let trying: { limiter: RateLimiterRedis; points: number } | undefined;
    try {
      for (const requests of [limiters.perSecond, limiters.perMinute]) {
        if (!requests) continue;
        trying = { limiter: requests, points: 1 };
        await requests.consume(route, 1);
        admission.requests.push(requests);
      }
      if (limiters.tokens && limiters.tpm) {
        // A call larger than the whole budget may still run alone in an empty window.
        const tokens = Math.max(1, Math.min(Math.ceil(estimatedTokens()), limiters.tpm));
        trying = { limiter: limiters.tokens, points: tokens };
        await limiters.tokens.consume(route, tokens);
        admission.tokens = tokens;
      }
      return admission;
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) {
        await this.refund(admission).catch(() => undefined);
        throw new PredictqError('service_unavailable', 'the rate limiter could not reach Redis', { cause: err });
      }
      await Promise.all([this.refund(admission), trying?.limiter.reward(route, trying.points)]);
      throw this.#wait(route, 'rate_window', err.msBeforeNext);
    }
  }

  /** Corrects the token estimate with the real usage (0 when the call failed). */
  async settle(admission: RateAdmission, usedTokens: number): Promise<void> {
    const limiters = this.#limiters.get(admission.route);
    if (!limiters?.tokens || admission.tokens === 0) return;
    const diff = Math.round(usedTokens) - admission.tokens;
    if (diff > 0) await limiters.tokens.penalty(admission.route, diff);
    else if (diff < 0) await limiters.tokens.reward(admission.route, -diff);
  }

  /** Gives back what an admission took when the call never happened. */
  async refund(admission: RateAdmission): Promise<void> {
    await Promise.all(admission.requests.map((l) => l.reward(admission.route, 1)));
    admission.requests = [];
    await this.settle(admission, 0);
    admission.tokens = 0;
  }

  /** The LM said 429: every worker holds this route's calls for `ms`. */
  async pause(route: string, ms: number): Promise<WaitError> {
    const left = await this.#redis.predictqPauseRoute(routePauseKey(this.#keyPrefix, route), Math.max(1, Math.ceil(ms)), breakerChannel(this.#keyPrefix), route);
    return this.#wait(route, 'lm_429', left);
  }

  #wait(route: string, reason: WaitReason, ms: number): WaitError {
    return new WaitError('lm_rate_limited', `route "${route}" is rate-limited; the job waits for its window`, withJitter(ms), reason);
  }
}
