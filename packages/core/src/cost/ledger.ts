// The usage ledger: tokens and micro-dollars added up in Redis per UTC day, tenant, model,
// route and variant (one hash per day, expiring after the retention), and read back as reports.
// An LM call's usage is added by its settlement (Budgets.settle, exactly once); cache hits'
// savings are added here directly.
import type { RedisConnection } from '../queue/connection.js';
import type { LedgerWrite } from './budgets.js';
import { microsToUsd } from './usage-cost.js';
import { daysBetween, utcDay } from './windows.js';

export const USAGE_COUNTERS = [
  'requests',
  'prompt_tokens',
  'completion_tokens',
  'cached_tokens',
  'reasoning_tokens',
  'cost_micros',
  'cache_hits',
  'saved_tokens',
  'saved_micros',
] as const;
export type UsageCounter = (typeof USAGE_COUNTERS)[number];

export const USAGE_GROUPS = ['model', 'route', 'variant', 'day', 'tenant'] as const;
export type UsageGroup = (typeof USAGE_GROUPS)[number];

export interface UsageEntry {
  tenant: string;
  model: string;
  route: string;
  variant: string | null;
  /** When it happened (ms since epoch): picks the UTC day. */
  at: number;
  counts: Partial<Record<UsageCounter, number>>;
}

export interface UsageQuery {
  /** One tenant, or all. */
  tenant?: string;
  /** UTC days, "YYYY-MM-DD", inclusive. */
  from: string;
  to: string;
  groupBy: UsageGroup;
}

export interface UsageRow {
  key: string;
  requests: number;
  prompt_tokens: number;
  completion_tokens: number;
  cached_tokens: number;
  reasoning_tokens: number;
  total_tokens: number;
  cost_usd: number;
  cost_micros: number;
  cache_hits: number;
  saved_tokens: number;
  saved_usd: number;
  saved_micros: number;
}

/** Longest report range, in days (one HGETALL per day). */
export const MAX_REPORT_DAYS = 400;
const SEP = '|';
const NO_VARIANT = '-';

const clean = (value: string) => value.replaceAll(SEP, '_');

function emptyRow(key: string): UsageRow {
  return {
    key,
    requests: 0,
    prompt_tokens: 0,
    completion_tokens: 0,
    cached_tokens: 0,
    reasoning_tokens: 0,
    total_tokens: 0,
    cost_usd: 0,
    cost_micros: 0,
    cache_hits: 0,
    saved_tokens: 0,
    saved_usd: 0,
    saved_micros: 0,
  };
}

export class UsageLedger {
  readonly #redis: RedisConnection;
  readonly #prefix: string;
  readonly #retentionS: number;

  constructor(deps: { redis: RedisConnection; keyPrefix: string; retentionDays: number }) {
    this.#redis = deps.redis;
    // In the budgets' hash-tag slot: a settlement writes both in one script.
    this.#prefix = `${deps.keyPrefix}:{budget}:usage:`;
    this.#retentionS = deps.retentionDays * 86_400;
  }

  /** The hash increments of an entry, for a settlement to apply atomically with the budgets. */
  increments(entry: UsageEntry): LedgerWrite {
    const group = [entry.tenant, entry.model, entry.route, entry.variant ?? NO_VARIANT].map(clean).join(SEP);
    const increments: LedgerWrite['increments'] = [];
    for (const [counter, value] of Object.entries(entry.counts)) {
      if (value) increments.push([`${group}${SEP}${counter}`, Math.trunc(value)]);
    }
    // The retention counts from the end of the day, so a whole day is always kept.
    return { key: this.#prefix + utcDay(entry.at), ttlS: this.#retentionS + 86_400, increments };
  }

  async record(entry: UsageEntry): Promise<void> {
    const { key, ttlS, increments } = this.increments(entry);
    const multi = this.#redis.multi();
    for (const [field, by] of increments) multi.hincrby(key, field, by);
    multi.expire(key, ttlS);
    await multi.exec();
  }

  async report(query: UsageQuery): Promise<{ groups: UsageRow[]; total: UsageRow }> {
    const days = daysBetween(query.from, query.to).slice(0, MAX_REPORT_DAYS);
    const pipeline = this.#redis.pipeline();
    for (const day of days) pipeline.hgetall(this.#prefix + day);
    const replies = (await pipeline.exec()) ?? [];
    const rows = new Map<string, UsageRow>();
    const total = emptyRow('total');
    replies.forEach(([err, hash], i) => {
      if (err) throw err;
      for (const [field, raw] of Object.entries((hash ?? {}) as Record<string, string>)) {
        const [tenant, model, route, variant, counter] = field.split(SEP);
        if (counter === undefined || !(USAGE_COUNTERS as readonly string[]).includes(counter)) continue;
        if (query.tenant !== undefined && tenant !== query.tenant) continue;
        const keyOf: Record<UsageGroup, string | undefined> = { model, route, variant, day: days[i], tenant };
        const key = keyOf[query.groupBy] ?? '';
        let row = rows.get(key);
        if (!row) rows.set(key, (row = emptyRow(key)));
        const value = Number(raw);
        row[counter as UsageCounter] += value;
        total[counter as UsageCounter] += value;
      }
    });
    const finish = (row: UsageRow): UsageRow => ({
      ...row,
      total_tokens: row.prompt_tokens + row.completion_tokens,
      cost_usd: microsToUsd(row.cost_micros),
      saved_usd: microsToUsd(row.saved_micros),
    });
    return { groups: [...rows.values()].sort((a, b) => a.key.localeCompare(b.key)).map(finish), total: finish(total) };
  }
}
