// OpenAI-compatible files (purpose "batch") kept in Redis, the one store every producer replica
// and worker shares: metadata in a hash and the content in fixed-size chunks in a list (one
// hash-tag slot per file), both expiring with the retention; a sorted set per tenant (a slot of
// its own) lists them.
// Content is written and read chunk by chunk, so neither an upload nor a download is ever held
// whole in memory.
import { randomBytes } from 'node:crypto';
import type { RedisConnection } from '../queue/connection.js';
import { PredictqError } from '../errors/index.js';

export interface FileObject {
  id: string;
  object: 'file';
  bytes: number;
  created_at: number;
  filename: string;
  purpose: string;
  status: 'processed';
  expires_at: number;
}

export interface FileStoreOptions {
  redis: RedisConnection;
  keyPrefix: string;
  /** Files expire this long after they were written. */
  retentionS: number;
  /** The largest file accepted. */
  maxBytes: number;
  /** Size of one stored chunk. */
  chunkBytes?: number;
  now?: () => number;
}

export interface FileWriter {
  /** Appends bytes; throws payload_too_large past maxBytes (nothing is kept then). */
  write(bytes: Buffer): Promise<void>;
  /** Makes the file visible and returns it. */
  finish(): Promise<FileObject>;
  /** Drops what was written. */
  abort(): Promise<void>;
}

export const FILE_ID_PREFIX = 'file-';
const DEFAULT_CHUNK_BYTES = 256 * 1024;
/** Chunks read per round trip when streaming content out. */
const READ_BATCH = 4;

export class FileStore {
  readonly #redis: RedisConnection;
  readonly #prefix: string;
  readonly #options: FileStoreOptions;
  readonly #chunkBytes: number;
  readonly #now: () => number;

  constructor(options: FileStoreOptions) {
    this.#redis = options.redis;
    this.#prefix = options.keyPrefix;
    this.#options = options;
    this.#chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    this.#now = options.now ?? Date.now;
  }

  get maxBytes(): number {
    return this.#options.maxBytes;
  }

  #meta(id: string): string {
    return `${this.#prefix}:file:{${id}}:meta`;
  }

  #data(id: string): string {
    return `${this.#prefix}:file:{${id}}:data`;
  }

  #index(tenant: string): string {
    return `${this.#prefix}:files:${tenant}`;
  }

  /** A new file, written chunk by chunk: visible (and listed) only once finished. */
  writer(tenant: string, meta: { filename: string; purpose: string }): FileWriter {
    const id = FILE_ID_PREFIX + randomBytes(12).toString('hex');
    const data = this.#data(id);
    const ttl = this.#options.retentionS;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let total = 0;
    const flush = async (all: boolean) => {
      while (pendingBytes >= this.#chunkBytes || (all && pendingBytes > 0)) {
        const joined = Buffer.concat(pending);
        const chunk = joined.subarray(0, this.#chunkBytes);
        const rest = joined.subarray(chunk.length);
        pending = rest.length ? [rest] : [];
        pendingBytes = rest.length;
        await this.#redis.multi().rpush(data, chunk).expire(data, ttl).exec();
      }
    };
    return {
      write: async (bytes) => {
        total += bytes.length;
        if (total > this.#options.maxBytes) {
          await this.#redis.del(data);
          throw new PredictqError('payload_too_large', `the file is larger than ${this.#options.maxBytes} bytes`);
        }
        pending.push(bytes);
        pendingBytes += bytes.length;
        await flush(false);
      },
      finish: async () => {
        await flush(true);
        const createdAt = Math.floor(this.#now() / 1000);
        const file: FileObject = {
          id,
          object: 'file',
          bytes: total,
          created_at: createdAt,
          filename: meta.filename,
          purpose: meta.purpose,
          status: 'processed',
          expires_at: createdAt + ttl,
        };
        await this.#redis.multi().hset(this.#meta(id), { tenant, file: JSON.stringify(file) }).expire(this.#meta(id), ttl).exec();
        // The index lives in another slot on a Redis Cluster, so it is written after the file (a
        // file is never listed before it exists; one that outlives its index entry still expires).
        await this.#redis.multi().zadd(this.#index(tenant), this.#now(), id).expire(this.#index(tenant), ttl).exec();
        return file;
      },
      abort: async () => {
        await this.#redis.del(data);
      },
    };
  }

  async get(tenant: string, id: string): Promise<FileObject | undefined> {
    if (!id.startsWith(FILE_ID_PREFIX) || id.length > 64) return undefined;
    const [owner, file] = await this.#redis.hmget(this.#meta(id), 'tenant', 'file');
    if (owner !== tenant || !file) return undefined;
    return JSON.parse(file) as FileObject;
  }

  /** The tenant's files, newest first (or oldest with order "asc"), after a cursor, a window at a time. */
  async list(tenant: string, query: { limit: number; after?: string | undefined; order: 'asc' | 'desc'; purpose?: string | undefined }): Promise<{ data: FileObject[]; has_more: boolean }> {
    const index = this.#index(tenant);
    const desc = query.order === 'desc';
    const rank = query.after === undefined ? -1 : await (desc ? this.#redis.zrevrank(index, query.after) : this.#redis.zrank(index, query.after));
    if (rank === null) return { data: [], has_more: false };
    const data: FileObject[] = [];
    const gone: string[] = [];
    let at = rank + 1;
    const window = Math.max(16, query.limit + 1);
    for (;;) {
      const ids = desc ? await this.#redis.zrevrange(index, at, at + window - 1) : await this.#redis.zrange(index, at, at + window - 1);
      for (const id of ids) {
        const file = await this.get(tenant, id);
        if (!file) gone.push(id);
        else if (query.purpose === undefined || file.purpose === query.purpose) data.push(file);
        if (data.length > query.limit) break;
      }
      at += ids.length;
      if (data.length > query.limit || ids.length < window) break;
    }
    // Expired files leave their index entry behind; drop them as they are met.
    if (gone.length) await this.#redis.zrem(index, ...gone);
    return { data: data.slice(0, query.limit), has_more: data.length > query.limit };
  }

  /** The content, chunk by chunk; undefined when the tenant has no such file. */
  async content(tenant: string, id: string): Promise<AsyncGenerator<Buffer> | undefined> {
    if (!(await this.get(tenant, id))) return undefined;
    const redis = this.#redis;
    const key = this.#data(id);
    return (async function* () {
      for (let at = 0; ; at += READ_BATCH) {
        const chunks = await redis.lrangeBuffer(key, at, at + READ_BATCH - 1);
        for (const chunk of chunks) yield chunk;
        if (chunks.length < READ_BATCH) return;
      }
    })();
  }

  async delete(tenant: string, id: string): Promise<boolean> {
    if (!(await this.get(tenant, id))) return false;
    await this.#redis.del(this.#meta(id), this.#data(id));
    await this.#redis.zrem(this.#index(tenant), id);
    return true;
  }
}
