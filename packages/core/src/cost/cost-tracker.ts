// The cost stage of the pipeline: prices a call, reserves its worst case in the budgets before
// it runs, settles to the real usage after (or releases on failure), and writes the ledger.
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Config } from '../config/index.js';
import { PredictqError, WaitError } from '../errors/index.js';
import type { ChatMessage, LmUsage } from '../lm/index.js';
import { systemClock, type Clock } from '../pipeline/clock.js';
import type { PipelineEvents } from '../pipeline/events.js';
import { Budgets, type BudgetHold, type BudgetLimit } from './budgets.js';
import { UsageLedger } from './ledger.js';
import { PriceTable, type TokenPrice } from './prices.js';
import { estimatePromptTokens } from './token-estimate.js';
import { costMicros, worstCaseMicros } from './usage-cost.js';

export interface CostRequest {
  /** Names the reservation (the job id; a random suffix makes each attempt's unique). */
  id: string;
  tenant: string;
  route: { name: string; model: string; timeout_ms: number };
  variant: string | null;
  messages: readonly ChatMessage[];
  maxTokens: number;
}

export interface Reservation {
  readonly reservedMicros: number;
  /** Settles at the real cost (once) and returns it in micro-dollars. */
  settle(usage: LmUsage): Promise<number>;
  /** Gives the whole reservation back (the call failed or never ran). */
  release(): Promise<void>;
}

export interface CostTrackerDeps {
  config: Config;
  /** A fail-fast connection (createFastConnection). */
  redis: Redis;
  clock?: Clock;
  /** Where cost and budget events go (the pipeline's events). */
  events?: PipelineEvents;
  /** Ledger writes that failed: the prediction goes on, the operator hears of it. */
  onError?: (err: unknown, what: string) => void;
}

/** A reservation outlives the LM call's timeout by this much before other workers may reclaim it. */
const HOLD_GRACE_MS = 60_000;
/** How long a job waits while in-flight reservations hold the budget (plus jitter). */
const HELD_RETRY_MS = 200;

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

export class CostTracker {
  readonly prices: PriceTable;
  readonly budgets: Budgets;
  readonly ledger: UsageLedger;
  readonly #clock: Clock;
  readonly #events: PipelineEvents | undefined;
  readonly #onError: (err: unknown, what: string) => void;

  constructor(deps: CostTrackerDeps) {
    this.#clock = deps.clock ?? systemClock;
    this.prices = new PriceTable(deps.config.prices, deps.config.unknown_model_price);
    this.budgets = new Budgets({ redis: deps.redis, config: deps.config, clock: this.#clock });
    this.ledger = new UsageLedger({ redis: deps.redis, keyPrefix: deps.config.key_prefix, retentionDays: deps.config.usage_retention_days });
    this.#events = deps.events;
    this.#onError = deps.onError ?? (() => {});
  }

  #price(model: string): TokenPrice {
    const { price, known } = this.prices.priceOf(model);
    if (!known) this.#events?.emit('cost:unpriced', { model });
    return price;
  }

  /** The most this request can cost: estimated prompt tokens plus max_tokens, at the model's price. */
  worstCase(model: string, messages: readonly ChatMessage[], maxTokens: number): number {
    return worstCaseMicros(this.#price(model), estimatePromptTokens(messages), maxTokens);
  }

  /**
   * Reserves the worst case. Throws budget_exceeded (reject policy), or a WaitError until the
   * reset (hold policy) or until in-flight calls settle (the budget is only held, not spent).
   */
  async reserve(request: CostRequest): Promise<Reservation> {
    const price = this.#price(request.route.model);
    let hold: BudgetHold | undefined;
    let reservedMicros = 0;
    if (this.budgets.applies(request.tenant)) {
      reservedMicros = worstCaseMicros(price, estimatePromptTokens(request.messages), request.maxTokens);
      const id = `${request.id}:${randomUUID().slice(0, 8)}`;
      let outcome;
      try {
        outcome = await this.budgets.reserve(id, request.tenant, reservedMicros, request.route.timeout_ms + HOLD_GRACE_MS);
      } catch (err) {
        // Budgets are never skipped: without the ledger, the job waits for Redis.
        throw new WaitError('service_unavailable', 'the budget ledger is unreachable', 1000, { cause: err });
      }
      if (outcome.status !== 'reserved') {
        const { limit, resetsAt } = outcome;
        this.#events?.emit('budget:refused', {
          tenant: request.tenant,
          budget: limit.budget,
          window: limit.window,
          policy: limit.policy,
          outcome: outcome.status,
          resetsAt,
        });
        if (outcome.status === 'held') {
          throw new WaitError('budget_exceeded', `${describe(limit).text} is held by predictions in flight`, HELD_RETRY_MS + Math.random() * 300);
        }
        const error = budgetExceeded(limit, resetsAt);
        if (limit.policy === 'hold') throw new WaitError('budget_exceeded', error.message, resetsAt - this.#clock.now() + Math.random() * 1000);
        throw error;
      }
      hold = outcome.hold;
    }
    return this.#reservation(request, price, hold, reservedMicros);
  }

  #reservation(request: CostRequest, price: TokenPrice, hold: BudgetHold | undefined, reservedMicros: number): Reservation {
    let done = false;
    return {
      reservedMicros,
      settle: async (usage) => {
        const cost = costMicros(price, usage);
        if (done) return cost;
        done = true;
        const at = this.#clock.now();
        const [budgets] = await Promise.all([
          hold
            ? this.budgets.settle(hold, cost).catch((err: unknown) => (this.#onError(err, 'budget settlement'), []))
            : Promise.resolve([]),
          this.ledger
            .record({
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
            })
            .catch((err: unknown) => this.#onError(err, 'usage ledger')),
        ]);
        for (const state of budgets) {
          const limit = hold?.slots.find((l) => l?.budget === state.budget && l.window === state.window);
          const soft = limit ? (limit.limitMicros * limit.softLimitPercent) / 100 : Infinity;
          // Settlements are atomic, so exactly one crosses the line, cluster-wide.
          if (state.spentMicros - cost < soft && state.spentMicros >= soft) {
            this.#events?.emit('budget:soft_limit', { ...state, tenant: request.tenant, softLimitPercent: limit!.softLimitPercent });
          }
        }
        this.#events?.emit('cost:settled', {
          tenant: request.tenant,
          route: request.route.name,
          model: request.route.model,
          variant: request.variant,
          usage,
          costMicros: cost,
          budgets,
        });
        return cost;
      },
      release: async () => {
        if (done) return;
        done = true;
        if (hold) await this.budgets.release(hold).catch((err: unknown) => this.#onError(err, 'budget release'));
      },
    };
  }

  /** The producer's check before enqueueing: throws budget_exceeded when a window cannot fit the worst case. */
  async precheck(tenant: string, model: string, messages: readonly ChatMessage[], maxTokens: number): Promise<void> {
    if (!this.budgets.applies(tenant)) return;
    const spent = await this.budgets.exhausted(tenant, this.worstCase(model, messages, maxTokens));
    if (spent) {
      this.#events?.emit('budget:refused', {
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
   * the saving in the ledger and emits `cost:saved`; returns the micro-dollars saved.
   */
  async recordCacheHit(hit: { tenant: string; model: string; route: string; variant: string | null; usage: { prompt_tokens: number; completion_tokens: number; cached_tokens?: number | undefined } }): Promise<number> {
    const price = this.prices.lookup(hit.model);
    const saved = price ? costMicros(price, hit.usage) : 0;
    const tokens = hit.usage.prompt_tokens + hit.usage.completion_tokens;
    this.#events?.emit('cost:saved', {
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
        counts: { cache_hits: 1, saved_tokens: tokens, saved_micros: saved },
      })
      .catch((err: unknown) => this.#onError(err, 'usage ledger'));
    return saved;
  }
}
