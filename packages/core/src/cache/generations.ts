// Invalidation in O(1): generation counters (all, per namespace, per program) are part of every
// cache key, so bumping one makes every old key unreachable at once; old values then expire by
// TTL. Never KEYS or SCAN. Each process keeps a short-lived copy of the counters, dropped as soon
// as an invalidation is published.
import type { RedisConnection } from '../queue/connection.js';
import { systemClock, type Clock } from '../clock/index.js';
import type { Generations } from './cache-key.js';
import { UNAVAILABLE, type RedisGuard } from './redis-guard.js';

/** Longer than any value's TTL (30 days + jitter), so an expired counter cannot bring old values back. */
const GENERATION_KEY_TTL_MS = 62 * 86_400_000;
const MAX_LOCAL_FIELDS = 10_000;

export interface InvalidateTarget {
  all?: boolean;
  /** "tenant:<name>" or "shared". */
  scope?: string;
  program?: string;
}

export interface GenerationStoreOptions {
  keyPrefix: string;
  ttlMs: number;
  clock?: Clock;
}

export class GenerationStore {
  readonly #guard: RedisGuard;
  readonly #hashKey: string;
  readonly #channel: string;
  readonly #options: GenerationStoreOptions;
  readonly #clock: Clock;
  readonly #local = new Map<string, { value: number; at: number }>();
  #subscriber: RedisConnection | undefined;

  constructor(guard: RedisGuard, options: GenerationStoreOptions) {
    this.#guard = guard;
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#hashKey = `${options.keyPrefix}:cache:gen`;
    this.#channel = `${options.keyPrefix}:cache:invalidated`;
  }

  /** Listens for invalidations from any process (a dedicated connection: subscribers cannot run commands). */
  subscribe(subscriber: RedisConnection): void {
    this.#subscriber = subscriber;
    subscriber.on('error', () => {});
    subscriber.on('message', (channel) => {
      if (channel === this.#channel) this.#local.clear();
    });
    // After a reconnect we may have missed messages: forget the counters.
    subscriber.on('ready', () => this.#local.clear());
    subscriber.subscribe(this.#channel).catch(() => {});
  }

  async current(scope: string, program: string | null): Promise<Generations> {
    const fields = ['all', `scope:${scope}`, program === null ? undefined : `program:${program}`];
    const now = this.#clock.now();
    const cached = fields.map((f) => (f === undefined ? { value: 0, at: now } : this.#local.get(f)));
    if (cached.every((c) => c !== undefined && now - c.at < this.#options.ttlMs)) {
      return { all: cached[0]!.value, scope: cached[1]!.value, program: cached[2]!.value };
    }
    const wanted = fields.filter((f): f is string => f !== undefined);
    const read = await this.#guard.run((r) => r.hmget(this.#hashKey, ...wanted));
    if (read !== UNAVAILABLE) {
      if (this.#local.size > MAX_LOCAL_FIELDS) this.#local.clear();
      wanted.forEach((f, i) => this.#local.set(f, { value: Number(read[i] ?? 0) || 0, at: now }));
    }
    // Redis down: the last counters we saw (or 0) keep L1 serving.
    const value = (f: string | undefined) => (f === undefined ? 0 : (this.#local.get(f)?.value ?? 0));
    return { all: value(fields[0]), scope: value(fields[1]), program: value(fields[2]) };
  }

  /** Bumps the counters named; returns their new values. Throws when Redis is unreachable. */
  async invalidate(target: InvalidateTarget): Promise<Record<string, number>> {
    const fields = [
      ...(target.all ? ['all'] : []),
      ...(target.scope ? [`scope:${target.scope}`] : []),
      ...(target.program ? [`program:${target.program}`] : []),
    ];
    if (fields.length === 0) return {};
    const multi = this.#guard.redis.multi();
    for (const f of fields) multi.hincrby(this.#hashKey, f, 1);
    multi.pexpire(this.#hashKey, GENERATION_KEY_TTL_MS);
    multi.publish(this.#channel, fields.join(','));
    const results = await multi.exec();
    if (!results) throw new Error('cache invalidation transaction was discarded');
    this.#local.clear();
    const out: Record<string, number> = {};
    fields.forEach((f, i) => {
      const [err, value] = results[i] ?? [];
      if (err) throw err;
      out[f] = Number(value);
    });
    return out;
  }

  async close(): Promise<void> {
    const subscriber = this.#subscriber;
    this.#subscriber = undefined;
    if (subscriber) await subscriber.quit().catch(() => subscriber.disconnect());
  }
}
