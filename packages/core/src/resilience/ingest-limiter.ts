// Per-tenant ingest limit at the producer: predictions a tenant may submit per minute, shared
// by every producer through Redis (rate-limiter-flexible). Over it: rate_limited (429) with the
// seconds to wait.
import type { RedisConnection } from '../queue/connection.js';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Config } from '../config/index.js';
import { PredictqError } from '../errors/index.js';

export class IngestLimiter {
  readonly #limiters = new Map<string, RateLimiterRedis>();

  constructor(config: Config, redis: RedisConnection) {
    const limiter = (points: number) =>
      new RateLimiterRedis({ storeClient: redis, keyPrefix: `${config.key_prefix}:rl:ingest`, points, duration: 60 });
    const fallback = config.tenant_limits.rpm;
    for (const tenant of config.tenants) {
      const rpm = tenant.rpm ?? fallback;
      if (rpm) this.#limiters.set(tenant.name, limiter(rpm));
    }
    // Without configured tenants every request is tenant "default".
    if (config.tenants.length === 0 && fallback) this.#limiters.set('default', limiter(fallback));
  }

  get enabled(): boolean {
    return this.#limiters.size > 0;
  }

  /** Counts one submission; throws rate_limited (details.retry_after_s) when over the limit. */
  async take(tenant: string): Promise<void> {
    const limiter = this.#limiters.get(tenant);
    if (!limiter) return;
    try {
      await limiter.consume(tenant, 1);
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err;
      const retryAfterS = Math.max(1, Math.ceil(err.msBeforeNext / 1000));
      throw new PredictqError('rate_limited', `too many predictions for this API key; retry in ${retryAfterS} s`, {
        details: { retry_after_s: retryAfterS },
      });
    }
  }
}
