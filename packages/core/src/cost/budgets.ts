// Budgets: global and per tenant, per UTC day and month, enforced across every worker by
// atomic Redis scripts (reserve the worst case, settle to the real cost, release on failure).
// A call a budget applies to is recorded while in flight; one no budget applies to is not (no
// round trip before the call) and its settlement leaves a short-lived mark instead. Either way
// its settlement (cost and ledger usage, in the same script) happens exactly once even when it
// must be retried.
import type { RedisConnection } from '../queue/connection.js';
import type { Clock } from '../clock/index.js';
import type { BudgetConfig, Config } from '../config/index.js';
import { budgetScripts, type BudgetScripts } from './budget-scripts.js';
import { usdToMicros } from './usage-cost.js';
import { BUDGET_WINDOWS, periodOf, resetsAt, type BudgetWindow } from './windows.js';

export interface BudgetLimit {
  /** "global" or "tenant:<name>": the metrics label and the name shown to clients. */
  budget: string;
  window: BudgetWindow;
  limitMicros: number;
  policy: 'reject' | 'hold';
  softLimitPercent: number;
}

export interface BudgetState {
  budget: string;
  window: BudgetWindow;
  limitMicros: number;
  spentMicros: number;
  /** When the window resets (ms since epoch). */
  resetsAt: number;
}

/** A reservation's place in Redis: settle and release use the windows it was made in. */
export interface BudgetHold {
  id: string;
  keys: string[];
  slots: Array<BudgetLimit | undefined>;
  at: number;
  /** Whether reserve-call-5.lua recorded the call (false: no budget applied, nothing was written). */
  recorded: boolean;
}

/** The ledger increments a settlement adds in the same atomic step (see UsageLedger.increments). */
export interface LedgerWrite {
  key: string;
  ttlS: number;
  increments: Array<[field: string, by: number]>;
}

interface Settlement {
  hold: BudgetHold;
  costMicros: number;
  ledger: LedgerWrite | undefined;
  resolve(states: BudgetState[] | undefined): void;
  reject(err: unknown): void;
}

export type ReserveOutcome =
  | { status: 'reserved'; hold: BudgetHold }
  /** `held`: in-flight reservations use the budget up for now; `exhausted`: it is spent. */
  | { status: 'held' | 'exhausted'; limit: BudgetLimit; resetsAt: number };

const DAY_S = 86_400;
/** Acknowledged marks one settlement removes at most (the rest ride on the next ones). */
const ACKS_PER_SETTLE = 64;
/** Settlements sent together at most (more wait for the next script call). */
const SETTLEMENTS_PER_CALL = 64;
/** Acknowledgements kept waiting at most; beyond, the oldest marks are left to expire. */
const MAX_PENDING_ACKS = 4096;
/** A call's record outlives its call this long, so a settlement can be retried through a long Redis outage. */
export const CALL_RECORD_MS = DAY_S * 1000;
/** Window keys outlive their window a little, so yesterday's and last month's spend stay readable. */
const KEEP_AFTER_S: Record<BudgetWindow, number> = { daily: 2 * DAY_S, monthly: 35 * DAY_S };

function limitsOf(budget: string, settings: BudgetConfig | undefined): Array<BudgetLimit | undefined> {
  return BUDGET_WINDOWS.map((window) => {
    const usd = window === 'daily' ? settings?.daily_usd : settings?.monthly_usd;
    if (!settings || usd === undefined) return undefined;
    return { budget, window, limitMicros: usdToMicros(usd), policy: settings.policy, softLimitPercent: settings.soft_limit_percent };
  });
}

export class Budgets {
  readonly #redis: RedisConnection;
  readonly #clock: Clock;
  readonly #prefix: string;
  readonly #callsKey: string;
  readonly #marksKey: string;
  /** Unrecorded calls whose settlement reply reached us: their marks can go. */
  #acks: string[] = [];
  /** Settlements waiting for the one on its way to Redis. */
  readonly #queued: Settlement[] = [];
  #sending = false;
  readonly #global: Array<BudgetLimit | undefined>;
  readonly #tenants: Map<string, Array<BudgetLimit | undefined>>;
  #scripts: BudgetScripts | undefined;

  constructor(deps: { redis: RedisConnection; config: Config; clock: Clock }) {
    this.#redis = deps.redis;
    this.#clock = deps.clock;
    // The {budget} hash tag puts every window of every scope, the call records and the ledger
    // in one Cluster slot, as one script needs.
    this.#prefix = `${deps.config.key_prefix}:{budget}`;
    this.#callsKey = `${this.#prefix}:calls`;
    this.#marksKey = `${this.#prefix}:settled`;
    this.#global = limitsOf('global', deps.config.budgets.global);
    this.#tenants = new Map(
      Object.entries(deps.config.budgets.tenants).map(([tenant, settings]) => [tenant, limitsOf(`tenant:${tenant}`, settings)]),
    );
  }

  get #run(): BudgetScripts {
    return (this.#scripts ??= budgetScripts(this.#redis));
  }

  /** Every configured limit. */
  get limits(): BudgetLimit[] {
    return [...this.#global, ...[...this.#tenants.values()].flat()].filter((l): l is BudgetLimit => l !== undefined);
  }

  /** Whether any budget applies to this tenant's spending. */
  applies(tenant: string): boolean {
    return this.#slots(tenant).some((l) => l !== undefined);
  }

  /** [global daily, global monthly, tenant daily, tenant monthly], undefined where none is set. */
  #slots(tenant: string): Array<BudgetLimit | undefined> {
    return [...this.#global, ...(this.#tenants.get(tenant) ?? [undefined, undefined])];
  }

  #keys(tenant: string, at: number): string[] {
    const scopes = ['global', 'global', `tenant:${tenant}`, `tenant:${tenant}`];
    return scopes.map((scope, i) => {
      const window = BUDGET_WINDOWS[i % 2]!;
      return `${this.#prefix}:${scope}:${window}:${periodOf(window, at)}`;
    });
  }

  /** The TTL of each window key a budget applies to (0 where none does: the scripts leave it alone). */
  #ttls(slots: Array<BudgetLimit | undefined>, at: number): number[] {
    return slots.map((limit, i) => {
      if (!limit) return 0;
      const window = BUDGET_WINDOWS[i % 2]!;
      return Math.ceil((resetsAt(window, at) - at) / 1000) + KEEP_AFTER_S[window];
    });
  }

  /**
   * Records the call and reserves `amountMicros` in every window that applies, atomically
   * across all workers (a tenant without budgets only gets the record).
   */
  async reserve(id: string, tenant: string, amountMicros: number, holdMs: number, at = this.#clock.now()): Promise<ReserveOutcome> {
    const hold = this.holdOf(id, tenant, at);
    const { keys, slots } = hold;
    const reply = (await this.#run.reserve(
      this.#callsKey,
      ...keys,
      id,
      amountMicros,
      at,
      at + holdMs,
      CALL_RECORD_MS,
      ...slots.map((l) => (l ? l.limitMicros : -1)),
      ...this.#ttls(slots, at),
    )) as [number, number];
    const [status, index] = reply;
    if (status === 1) return { status: 'reserved', hold };
    const limit = slots[index - 1]!;
    return { status: status === 0 ? 'held' : 'exhausted', limit, resetsAt: resetsAt(limit.window, at) };
  }

  /** The hold `reserve(id, tenant, …, at)` makes: what releases a reservation whose answer never came. */
  holdOf(id: string, tenant: string, at: number): BudgetHold {
    return { id, keys: this.#keys(tenant, at), slots: this.#slots(tenant), at, recorded: true };
  }

  /**
   * A call no budget applies to: nothing to reserve, so nothing is written before the call (its
   * settlement makes it exactly-once by itself). Throws when a budget does apply.
   */
  unreserved(id: string, tenant: string): BudgetHold {
    const slots = this.#slots(tenant);
    if (slots.some((l) => l !== undefined)) throw new TypeError(`a budget applies to tenant "${tenant}": reserve the call`);
    const at = this.#clock.now();
    return { id, keys: this.#keys(tenant, at), slots, at, recorded: false };
  }

  /**
   * Settles the call once: releases the reservation, adds the real cost and the ledger
   * increments. Returns each window's state after, or undefined when it was settled before.
   * Settlements that become ready while one is on its way to Redis go together in the next
   * script call (one per set of keys), so a busy worker makes fewer round trips than calls.
   */
  settle(hold: BudgetHold, costMicros: number, ledger?: LedgerWrite): Promise<BudgetState[] | undefined> {
    return new Promise((resolve, reject) => {
      this.#queued.push({ hold, costMicros, ledger, resolve, reject });
      if (!this.#sending) void this.#sendQueued();
    });
  }

  async #sendQueued(): Promise<void> {
    this.#sending = true;
    try {
      while (this.#queued.length > 0) {
        const groups = new Map<string, Settlement[]>();
        for (const s of this.#queued.splice(0, SETTLEMENTS_PER_CALL)) {
          const key = `${s.ledger?.key ?? ''} ${s.hold.keys.join(' ')} ${s.hold.slots.map((l) => (l ? 1 : 0)).join('')}`;
          const group = groups.get(key);
          if (group) group.push(s);
          else groups.set(key, [s]);
        }
        await Promise.all([...groups.values()].map((group) => this.#settleTogether(group)));
      }
    } finally {
      this.#sending = false;
    }
  }

  /** One script call for settlements with the same keys; each caller hears of its own call. */
  async #settleTogether(group: Settlement[]): Promise<void> {
    const { hold, ledger } = group[0]!;
    const acks = this.#acks.splice(0, ACKS_PER_SETTLE);
    let replies: number[][];
    try {
      replies = (await this.#run.settle(
        this.#callsKey,
        this.#marksKey,
        ledger?.key ?? `${this.#prefix}:usage:none`,
        ...hold.keys,
        this.#clock.now(),
        CALL_RECORD_MS,
        ...hold.slots.map((l) => (l ? 1 : 0)),
        ...this.#ttls(hold.slots, hold.at),
        ledger?.ttlS ?? 1,
        acks.length,
        ...acks,
        ...group.flatMap((s) => [
          s.hold.id,
          s.costMicros,
          s.hold.recorded ? 1 : 0,
          s.ledger?.increments.length ?? 0,
          ...(s.ledger?.increments.flat() ?? []),
        ]),
      )) as number[][];
    } catch (err) {
      // Removing a mark twice is harmless: they go with the next settlement.
      this.#acknowledge(acks);
      for (const s of group) s.reject(err);
      return;
    }
    // These settlements' replies are here, so they will not be retried: their marks can go.
    this.#acknowledge(group.filter((s) => !s.hold.recorded).map((s) => s.hold.id));
    group.forEach((s, i) => s.resolve(this.#states(s.hold, replies[i])));
  }

  #states(hold: BudgetHold, reply: number[] | undefined): BudgetState[] | undefined {
    if (reply?.[0] !== 1) return undefined;
    return hold.slots.flatMap((limit, i) =>
      limit ? [{ budget: limit.budget, window: limit.window, limitMicros: limit.limitMicros, spentMicros: reply[i + 1] ?? 0, resetsAt: resetsAt(limit.window, hold.at) }] : [],
    );
  }

  /** Gives the reservation back; an unrecorded call has nothing to give back. */
  async release(hold: BudgetHold): Promise<void> {
    if (!hold.recorded) return;
    await this.#run.release(this.#callsKey, ...hold.keys, hold.id);
  }

  #acknowledge(ids: string[]): void {
    this.#acks.push(...ids);
    if (this.#acks.length > MAX_PENDING_ACKS) this.#acks.splice(0, this.#acks.length - MAX_PENDING_ACKS);
  }

  /** Marks of settled unrecorded calls still in Redis (acknowledged ones go with later settlements). */
  async settledMarks(): Promise<number> {
    return this.#redis.zcard(this.#marksKey);
  }

  /** Calls recorded as in flight (settled ones are removed; a dead worker's expire after a day). */
  async inFlight(): Promise<number> {
    return this.#redis.zcount(this.#callsKey, this.#clock.now(), '+inf');
  }

  /**
   * The producer's pre-check: the first window where what is already spent leaves no room for
   * `amountMicros` (in-flight reservations are ignored: they may still be released).
   */
  async exhausted(tenant: string, amountMicros: number): Promise<{ limit: BudgetLimit; spentMicros: number; resetsAt: number } | undefined> {
    const at = this.#clock.now();
    const slots = this.#slots(tenant);
    const keys = this.#keys(tenant, at);
    const active = slots.map((limit, i) => ({ limit, key: keys[i]! })).filter((s): s is { limit: BudgetLimit; key: string } => !!s.limit);
    if (active.length === 0) return undefined;
    const spent = await Promise.all(active.map((s) => this.#redis.hget(s.key, 'spent')));
    for (const [i, s] of active.entries()) {
      const spentMicros = Number(spent[i] ?? 0);
      if (spentMicros + amountMicros > s.limit.limitMicros) return { limit: s.limit, spentMicros, resetsAt: resetsAt(s.limit.window, at) };
    }
    return undefined;
  }

  /** Every configured budget's current window: limit, spent, reserved, reset time. */
  async snapshot(): Promise<Array<BudgetState & { reservedMicros: number }>> {
    const at = this.#clock.now();
    const entries = [
      ...this.#global.map((limit, i) => ({ limit, key: this.#keys('', at)[i]! })),
      ...[...this.#tenants.entries()].flatMap(([tenant, limits]) => limits.map((limit, i) => ({ limit, key: this.#keys(tenant, at)[2 + i]! }))),
    ].filter((e): e is { limit: BudgetLimit; key: string } => !!e.limit);
    const values = await Promise.all(entries.map((e) => this.#redis.hmget(e.key, 'spent', 'reserved')));
    return entries.map((e, i) => ({
      budget: e.limit.budget,
      window: e.limit.window,
      limitMicros: e.limit.limitMicros,
      spentMicros: Number(values[i]?.[0] ?? 0),
      reservedMicros: Number(values[i]?.[1] ?? 0),
      resetsAt: resetsAt(e.limit.window, at),
    }));
  }
}
