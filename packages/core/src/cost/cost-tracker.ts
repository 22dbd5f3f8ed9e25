// Prices, budget reservations and the usage ledger, for one LM call at a time: the worst case
// is reserved before the call, the real cost is settled after it (once, even when Redis goes
// away in between: the settlement is retried until Redis takes it), or released when the call
// spent nothing. Knows nothing of jobs: the caller names each call.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ReplyError } from 'ioredis';
import type { RedisConnection } from '../queue/connection.js';
import { systemClock, type Clock } from '../clock/index.js';
import type { Config } from '../config/index.js';
import { PredictqError, WaitError } from '../errors/index.js';
import type { LmUsage } from '../lm/index.js';
import { Budgets, CALL_RECORD_MS, type BudgetHold, type BudgetLimit, type BudgetState } from './budgets.js';
import { CostEvents } from './cost-events.js';
import { UsageLedger } from './ledger.js';
import { PriceTable, type TokenPrice } from './prices.js';
import { costMicros, worstCaseMicros } from './usage-cost.js';

export interface CostRequest {
  /** Names the call (the job id; a random suffix makes each attempt's unique). */
  id: string;
  tenant: string;
  route: { name: string; model: string; timeout_ms: number };
  variant: string | null;
  /** The prompt's estimated tokens (lm/token-estimate.ts); read only when a budget applies. */
  promptTokens: () => number;
  maxTokens: number;
}

export interface Reservation {
  readonly reservedMicros: number;
  /** Settles at the real cost (once, retried through Redis trouble) and returns it in micro-dollars. */
  settle(usage: LmUsage): Promise<number>;
  /** Gives the whole reservation back (the call failed or never ran). */
  release(): Promise<void>;
}

export interface CostTrackerDeps {
  config: Config;
  /** A fail-fast connection (createFastConnection). */
  redis: RedisConnection;
  clock?: Clock;
  /** Where cost and budget events go; a new emitter when absent. */
  events?: CostEvents;
  /** Redis trouble the tracker worked around or gave up on: the operator hears of it. */
  onError?: (err: unknown, what: string) => void;
}

/** A reservation outlives the LM call's timeout by this much before other workers may reclaim it. */
const HOLD_GRACE_MS = 60_000;
/** How long a job waits while in-flight reservations hold the budget (plus jitter). */
const HELD_RETRY_MS = 200;
/** A settlement is retried until shortly before the call's record expires. */
const SETTLE_RETRY_MS = CALL_RECORD_MS - 3600_000;
const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 5000;

function describe(limit: BudgetLimit): { scope: string; text: string } {
  return limit.budget === 'global'
    ? { scope: 'global', text: `the global ${limit.window} budget` }
    : { scope: 'tenant', text: `the tenant's ${limit.window} budget` };
}

/** The error a spent budget answers with: names the window and when it resets. */
export function budgetExceeded(limit: BudgetLimit, resetsAt: number): PredictqError {
  const { scope, text } = describe(limit);
  const resets = new Date(resetsAt).toISOString();
  return new PredictqError('budget_exceeded', `${text} is spent; it resets at ${resets}`, {
    details: { scope, window: limit.window, resets_at: resets },
  });
}

/** Redis answered with an error (a bug, not an outage): retrying cannot help. */
const isReplyError = (err: unknown): boolean => err instanceof (ReplyError as new () => Error);

export class CostTracker {
  readonly prices: PriceTable;
  readonly budgets: Budgets;
  readonly ledger: UsageLedger;
  readonly events: CostEvents;
  readonly #clock: Clock;
  readonly #onError: (err: unknown, what: string) => void;
  #closed = false;

  constructor(deps: CostTrackerDeps) {
    this.#clock = deps.clock ?? systemClock;
    this.prices = new PriceTable(deps.config.prices, deps.config.unknown_model_price);
    this.budgets = new Budgets({ redis: deps.redis, config: deps.config, clock: this.#clock });
    this.ledger = new UsageLedger({ redis: deps.redis, keyPrefix: deps.config.key_prefix, retentionDays: deps.config.usage_retention_days });
    this.events = deps.events ?? new CostEvents();
    this.#onError = deps.onError ?? (() => {});
  }

  #price(model: string): TokenPrice {
    const { price, known } = this.prices.priceOf(model);
    if (!known) this.events.emit('cost:unpriced', { model });
    return price;
  }

  /**
   * Records the call and reserves its worst case. Throws budget_exceeded (reject policy), or a
   * WaitError until the reset (hold policy), until in-flight calls settle (the budget is only
   * held, not spent), or until Redis answers (a budgeted call is never made unrecorded). A call
   * no budget applies to reserves nothing and goes straight on; its settlement still counts it
   * once.
   */
  async reserve(request: CostRequest): Promise<Reservation> {
    const price = this.#price(request.route.model);
    const applies = this.budgets.applies(request.tenant);
    const reservedMicros = applies ? worstCaseMicros(price, request.promptTokens(), request.maxTokens) : 0;
    const id = `${request.id}:${randomUUID().slice(0, 8)}`;
    // Nothing to reserve: no round trip before the call (the settlement alone is exactly-once).
    if (!applies) return this.#reservation(request, price, this.budgets.unreserved(id, request.tenant), 0);
    let outcome;
    const at = this.#clock.now();
    try {
      outcome = await this.budgets.reserve(id, request.tenant, reservedMicros, request.route.timeout_ms + HOLD_GRACE_MS, at);
    } catch (err) {
      // No answer is not "not reserved": the script may have run before the connection dropped,
      // or run later (a timed-out command still goes out, and a reconnect resends what was in
      // flight). Nobody would settle that reservation, so it is given back; on the same
      // connection the release goes after the reserve, whenever that runs.
      if (!isReplyError(err)) void this.#durably('budget release', () => this.budgets.release(this.budgets.holdOf(id, request.tenant, at)));
      throw new WaitError('service_unavailable', 'the budget ledger is unreachable', 1000, 'redis', { cause: err });
    }
    if (outcome.status !== 'reserved') {
      const { limit, resetsAt } = outcome;
      this.events.emit('budget:refused', {
        tenant: request.tenant,
        budget: limit.budget,
        window: limit.window,
        policy: limit.policy,
        outcome: outcome.status,
        resetsAt,
      });
      if (outcome.status === 'held') {
        throw new WaitError('budget_exceeded', `${describe(limit).text} is held by predictions in flight`, HELD_RETRY_MS + Math.random() * 300, 'budget');
      }
      const error = budgetExceeded(limit, resetsAt);
      if (limit.policy === 'hold') throw new WaitError('budget_exceeded', error.message, resetsAt - this.#clock.now() + Math.random() * 1000, 'budget');
      throw error;
    }
    return this.#reservation(request, price, outcome.hold, reservedMicros);
  }

  #reservation(request: CostRequest, price: TokenPrice, hold: BudgetHold, reservedMicros: number): Reservation {
    let done = false;
    return {
      reservedMicros,
      settle: async (usage) => {
        const cost = costMicros(price, usage);
        if (done) return cost;
        done = true;
        // Fixed once, so a settlement retried after midnight still lands on the call's day.
        const at = this.#clock.now();
        const ledger = this.ledger.increments({
          tenant: request.tenant,
          model: request.route.model,
          route: request.route.name,
          variant: request.variant,
          at,
          counts: {
            requests: 1,
            prompt_tokens: usage.prompt_tokens,
            completion_tokens: usage.completion_tokens,
            cached_tokens: usage.cached_tokens,
            reasoning_tokens: usage.reasoning_tokens,
            cost_micros: cost,
          },
        });
        const budgets = await this.#durably('settlement', () => this.budgets.settle(hold, cost, ledger));
        if (budgets) this.#settled(request, usage, cost, hold, budgets);
        return cost;
      },
      release: async () => {
        if (done) return;
        done = true;
        await this.#durably('budget release', () => this.budgets.release(hold));
      },
    };
  }

  #settled(request: CostRequest, usage: LmUsage, cost: number, hold: BudgetHold, budgets: BudgetState[]): void {
    for (const state of budgets) {
      const limit = hold.slots.find((l) => l?.budget === state.budget && l.window === state.window);
      const soft = limit ? (limit.limitMicros * limit.softLimitPercent) / 100 : Infinity;
      // Settlements are atomic, so exactly one crosses the line, cluster-wide.
      if (state.spentMicros - cost < soft && state.spentMicros >= soft) {
        this.events.emit('budget:soft_limit', { ...state, tenant: request.tenant, softLimitPercent: limit!.softLimitPercent });
      }
    }
    this.events.emit('cost:settled', {
      tenant: request.tenant,
      route: request.route.name,
      model: request.route.model,
      variant: request.variant,
      usage,
      costMicros: cost,
      budgets,
    });
  }

  /**
   * Runs an idempotent Redis step until Redis takes it: through an outage (the scripts make a
   * repeat harmless), never past the call record's life, and not after close().
   */
  async #durably<T>(what: string, step: () => Promise<T>): Promise<T | undefined> {
    const giveUpAt = this.#clock.now() + SETTLE_RETRY_MS;
    let delay = RETRY_FIRST_MS;
    let reported = false;
    for (;;) {
      try {
        return await step();
      } catch (err) {
        if (isReplyError(err) || this.#closed || this.#clock.now() > giveUpAt) {
          this.#onError(err, `${what} failed`);
          return undefined;
        }
        if (!reported) {
          reported = true;
          this.#onError(err, `${what} delayed: RedisConnection is unreachable; retrying until it answers`);
        }
        await sleep(delay, undefined, { ref: false });
        delay = Math.min(delay * 2, RETRY_MAX_MS);
      }
    }
  }

  /** The producer's check before enqueueing: throws budget_exceeded when a window cannot fit the worst case. */
  async precheck(tenant: string, model: string, promptTokens: number, maxTokens: number): Promise<void> {
    if (!this.budgets.applies(tenant)) return;
    const spent = await this.budgets.exhausted(tenant, worstCaseMicros(this.#price(model), promptTokens, maxTokens));
    if (spent) {
      this.events.emit('budget:refused', {
        tenant,
        budget: spent.limit.budget,
        window: spent.limit.window,
        policy: spent.limit.policy,
        outcome: 'exhausted',
        resetsAt: spent.resetsAt,
      });
      throw budgetExceeded(spent.limit, spent.resetsAt);
    }
  }

  /**
   * A cache hit costs nothing; it saved the call whose usage the cached result carries. Records
   * the saving in the ledger and emits `cost:saved`; returns the micro-dollars saved. `hits`:
   * how many hits this record sums (their usage added up), 1 when absent.
   */
  async recordCacheHit(hit: {
    tenant: string;
    model: string;
    route: string;
    variant: string | null;
    usage: { prompt_tokens: number; completion_tokens: number; cached_tokens?: number | undefined };
    hits?: number;
  }): Promise<number> {
    const price = this.prices.lookup(hit.model);
    const saved = price ? costMicros(price, hit.usage) : 0;
    const tokens = hit.usage.prompt_tokens + hit.usage.completion_tokens;
    this.events.emit('cost:saved', {
      tenant: hit.tenant,
      route: hit.route,
      model: hit.model,
      variant: hit.variant,
      savedTokens: { prompt: hit.usage.prompt_tokens, completion: hit.usage.completion_tokens },
      savedMicros: saved,
    });
    await this.ledger
      .record({
        tenant: hit.tenant,
        model: hit.model,
        route: hit.route,
        variant: hit.variant,
        at: this.#clock.now(),
        counts: { cache_hits: hit.hits ?? 1, saved_tokens: tokens, saved_micros: saved },
      })
      .catch((err: unknown) => this.#onError(err, 'usage ledger write failed'));
    return saved;
  }

  /** Stops retrying settlements (the process is shutting down). */
  close(): void {
    this.#closed = true;
  }
}
