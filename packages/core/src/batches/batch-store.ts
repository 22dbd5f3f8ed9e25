// Batches in Redis: each batch's hash and its results hash share one hash-tag slot; a sorted
// set per tenant lists them newest first. Every state change is one script (a status moves only
// from the statuses allowed); an item's result is recorded once per line, whoever records it.
import { randomBytes } from 'node:crypto';
import type { RedisConnection } from '../queue/connection.js';
import { defineScripts, type ScriptCall } from '../redis/index.js';
import { batchFromHash, type BatchEndpoint, type BatchLineError, type BatchObject, type BatchStatus } from './batch-object.js';

export const BATCH_ID_PREFIX = 'batch_';

/** One item's result, as the finalizer writes it into the output or error file. */
export type ItemResult =
  | { ok: true; custom_id: string; request_id: string; body: unknown }
  | { ok: false; custom_id: string; request_id: string | null; code: string; message: string };

export interface NewBatch {
  tenant: string;
  endpoint: BatchEndpoint;
  inputFileId: string;
  completionWindow: string;
  windowS: number;
  metadata: Record<string, string> | undefined;
  callbackUrl: string | undefined;
}

export interface BatchStoreOptions {
  redis: RedisConnection;
  keyPrefix: string;
  /** Batches are kept this long after their window ends. */
  retentionS: number;
  now?: () => number;
}

type Scripts = Record<'predictqRecordBatchItem' | 'predictqBatchTransition', ScriptCall>;

export class BatchStore {
  readonly #redis: RedisConnection & Scripts;
  readonly #prefix: string;
  readonly #retentionS: number;
  readonly #now: () => number;

  constructor(options: BatchStoreOptions) {
    this.#redis = defineScripts(options.redis, import.meta.url, {
      predictqRecordBatchItem: './lua/record-item-2.lua',
      predictqBatchTransition: './lua/transition-3.lua',
    });
    this.#prefix = options.keyPrefix;
    this.#retentionS = options.retentionS;
    this.#now = options.now ?? Date.now;
  }

  #key(id: string): string {
    return `${this.#prefix}:batch:{${id}}`;
  }

  #results(id: string): string {
    return `${this.#prefix}:batch:{${id}}:results`;
  }

  #index(tenant: string): string {
    return `${this.#prefix}:batches:${tenant}`;
  }

  async create(batch: NewBatch): Promise<BatchObject> {
    const id = BATCH_ID_PREFIX + randomBytes(12).toString('hex');
    const now = this.#now();
    const createdAt = Math.floor(now / 1000);
    const ttl = batch.windowS + this.#retentionS;
    const fields: Record<string, string | number> = {
      tenant: batch.tenant,
      endpoint: batch.endpoint,
      input_file_id: batch.inputFileId,
      completion_window: batch.completionWindow,
      status: 'validating',
      created_at: createdAt,
      expires_at: createdAt + batch.windowS,
      total: 0,
      completed: 0,
      failed: 0,
      cost_micros: 0,
      ...(batch.metadata ? { metadata: JSON.stringify(batch.metadata) } : {}),
      ...(batch.callbackUrl ? { callback_url: batch.callbackUrl } : {}),
    };
    await this.#redis.multi().hset(this.#key(id), fields).expire(this.#key(id), ttl).exec();
    // The index is in another slot on a Redis Cluster: written second, so it never lists a batch
    // that does not exist (list() drops entries whose batch expired).
    await this.#redis.multi().zadd(this.#index(batch.tenant), now, id).expire(this.#index(batch.tenant), ttl).exec();
    return (await this.get(batch.tenant, id))!;
  }

  /** The batch, for its tenant only (undefined for anyone else). */
  async get(tenant: string, id: string): Promise<BatchObject | undefined> {
    const hash = await this.raw(id);
    return hash && hash.tenant === tenant ? batchFromHash(id, hash) : undefined;
  }

  /** The batch's fields, whoever owns it (for the processes that run it). */
  async raw(id: string): Promise<Record<string, string> | undefined> {
    if (!id.startsWith(BATCH_ID_PREFIX) || id.length > 64) return undefined;
    const hash = await this.#redis.hgetall(this.#key(id));
    return Object.keys(hash).length ? hash : undefined;
  }

  async list(tenant: string, query: { limit: number; after?: string | undefined }): Promise<{ data: BatchObject[]; has_more: boolean }> {
    const index = this.#index(tenant);
    const rank = query.after === undefined ? -1 : await this.#redis.zrevrank(index, query.after);
    if (rank === null) return { data: [], has_more: false };
    const ids = await this.#redis.zrevrange(index, rank + 1, rank + query.limit + 1);
    const found = await Promise.all(ids.map(async (id) => ({ id, batch: await this.get(tenant, id) })));
    const gone = found.filter((f) => !f.batch).map((f) => f.id);
    if (gone.length) await this.#redis.zrem(index, ...gone);
    const data = found.flatMap((f) => (f.batch ? [f.batch] : []));
    return { data: data.slice(0, query.limit), has_more: data.length > query.limit };
  }

  /**
   * Moves the batch to `to` if it is in one of `from`, stamping `stamp`; returns the status it was
   * in (the move happened only when that is one of `from`), or undefined when there is no batch.
   */
  async transition(id: string, from: readonly BatchStatus[], to: BatchStatus, stamp: string | undefined, fields: Record<string, string | number> = {}): Promise<BatchStatus | undefined> {
    const before = (await this.#redis.predictqBatchTransition(
      this.#key(id),
      this.#results(id),
      this.#key(id),
      to,
      from.join(','),
      stamp ?? '',
      Math.floor(this.#now() / 1000),
      ...Object.entries(fields).flat(),
    )) as BatchStatus | null;
    return before ?? undefined;
  }

  async set(id: string, fields: Record<string, string | number>): Promise<void> {
    await this.#redis.hset(this.#key(id), fields);
  }

  /** Notes the ingest's progress and returns the batch's status, in one round trip. */
  async progress(id: string, ingested: number): Promise<BatchStatus | undefined> {
    const replies = await this.#redis.multi().hset(this.#key(id), 'ingested', ingested).hget(this.#key(id), 'status').exec();
    return (replies?.[1]?.[1] as BatchStatus | null) ?? undefined;
  }

  async failValidation(id: string, errors: BatchLineError[]): Promise<void> {
    await this.transition(id, ['validating'], 'failed', 'failed_at', { errors: JSON.stringify(errors) });
  }

  /** Records a line's result once; true when it was the batch's last. */
  async record(id: string, line: number, result: ItemResult, costMicros = 0): Promise<{ recorded: boolean; last: boolean }> {
    const [recorded, last] = (await this.#redis.predictqRecordBatchItem(
      this.#key(id),
      this.#results(id),
      line,
      result.ok ? 'completed' : 'failed',
      JSON.stringify(result),
      Math.max(0, Math.round(costMicros)),
    )) as [number, number];
    return { recorded: recorded === 1, last: last === 1 };
  }

  /** The results of lines [from, to), undefined for lines without one yet. */
  async results(id: string, from: number, to: number): Promise<Array<ItemResult | undefined>> {
    if (to <= from) return [];
    const lines = Array.from({ length: to - from }, (_, i) => from + i);
    const raw = await this.#redis.hmget(this.#results(id), ...lines.map(String));
    return raw.map((r) => (r ? (JSON.parse(r) as ItemResult) : undefined));
  }

  /** Once its files are written: results dropped, the batch kept for the retention. */
  async finish(id: string): Promise<void> {
    await this.#redis.multi().del(this.#results(id)).expire(this.#key(id), this.#retentionS).exec();
  }
}
