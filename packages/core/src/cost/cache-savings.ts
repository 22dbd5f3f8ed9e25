// What cache hits saved, summed in memory and written to the usage ledger in one record per
// (tenant, model, route, variant) every flush interval, instead of one write per hit: at
// thousands of hits a second a ledger write each was a fifth of a hit's cost. A process that
// dies loses at most one interval of savings counts (never a call's usage: that is settled).
import type { CostTracker } from './cost-tracker.js';

export interface CacheHitSaving {
  tenant: string;
  model: string;
  route: string;
  variant: string | null;
  usage: { prompt_tokens: number; completion_tokens: number; cached_tokens?: number | undefined };
}

interface Pending extends CacheHitSaving {
  usage: { prompt_tokens: number; completion_tokens: number; cached_tokens: number };
  hits: number;
}

/** How often summed savings are written (also on close). */
export const CACHE_SAVINGS_FLUSH_MS = 200;
/** Distinct groups held between flushes before one is forced (tenants x routes x variants). */
const MAX_PENDING = 10_000;

export class CacheSavings {
  readonly #cost: Pick<CostTracker, 'recordCacheHit'>;
  readonly #pending = new Map<string, Pending>();
  readonly #timer: NodeJS.Timeout;

  constructor(cost: Pick<CostTracker, 'recordCacheHit'>, flushMs = CACHE_SAVINGS_FLUSH_MS) {
    this.#cost = cost;
    this.#timer = setInterval(() => void this.flush(), flushMs);
    this.#timer.unref();
  }

  add(hit: CacheHitSaving): void {
    const key = `${hit.tenant}\u0000${hit.model}\u0000${hit.route}\u0000${hit.variant ?? ''}`;
    const pending = this.#pending.get(key);
    if (pending) {
      pending.hits++;
      pending.usage.prompt_tokens += hit.usage.prompt_tokens;
      pending.usage.completion_tokens += hit.usage.completion_tokens;
      pending.usage.cached_tokens += hit.usage.cached_tokens ?? 0;
      return;
    }
    const usage = { prompt_tokens: hit.usage.prompt_tokens, completion_tokens: hit.usage.completion_tokens, cached_tokens: hit.usage.cached_tokens ?? 0 };
    this.#pending.set(key, { tenant: hit.tenant, model: hit.model, route: hit.route, variant: hit.variant, usage, hits: 1 });
    if (this.#pending.size >= MAX_PENDING) void this.flush();
  }

  /** Writes what is pending (recordCacheHit reports its own failures and never throws). */
  async flush(): Promise<void> {
    if (this.#pending.size === 0) return;
    const batch = [...this.#pending.values()];
    this.#pending.clear();
    await Promise.all(batch.map((saving) => this.#cost.recordCacheHit(saving)));
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.flush();
  }
}
