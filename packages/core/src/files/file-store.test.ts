// Files in a real Redis: written and read back chunk by chunk, tenant-scoped, size-capped,
// listed newest first with a cursor, expiring with the retention.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { FileStore } from './file-store.js';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

describe('FileStore (real Redis)', () => {
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis(inject('redisUrl'));
  });
  afterAll(() => redis.disconnect());

  let t = 1_000_000;
  let prefix = '';
  const store = (maxBytes = 1_000_000) =>
    new FileStore({ redis, keyPrefix: (prefix = `t${randomUUID().slice(0, 8)}`), retentionS: 3600, maxBytes, chunkBytes: 1000, now: () => (t += 1000) });

  async function put(files: FileStore, tenant: string, text: string, pieces = 7) {
    const writer = files.writer(tenant, { filename: 'in.jsonl', purpose: 'batch' });
    const step = Math.ceil(text.length / pieces);
    for (let at = 0; at < text.length; at += step) await writer.write(Buffer.from(text.slice(at, at + step)));
    return writer.finish();
  }

  it('reads back exactly what was written, in stored chunks, only for its tenant', async () => {
    const files = store();
    const text = Array.from({ length: 300 }, (_, i) => `{"line": ${i}}`).join('\n');
    const file = await put(files, 'acme', text);
    expect(file).toMatchObject({ object: 'file', bytes: text.length, filename: 'in.jsonl', purpose: 'batch', status: 'processed' });
    const parts: Buffer[] = [];
    for await (const chunk of (await files.content('acme', file.id))!) parts.push(chunk);
    expect(Buffer.concat(parts).toString()).toBe(text);
    expect(parts.every((p) => p.length <= 1000)).toBe(true);
    expect(await files.get('other', file.id)).toBeUndefined();
    expect(await files.content('other', file.id)).toBeUndefined();
    expect(await files.delete('other', file.id)).toBe(false);
    for (const key of [`${prefix}:file:{${file.id}}:meta`, `${prefix}:file:{${file.id}}:data`]) {
      const ttl = await redis.ttl(key);
      expect(ttl, key).toBeGreaterThan(0);
      expect(ttl, key).toBeLessThanOrEqual(3600);
    }
    expect(await files.delete('acme', file.id)).toBe(true);
    expect(await files.get('acme', file.id)).toBeUndefined();
  });

  it('refuses a file over the limit with payload_too_large and keeps nothing of it', async () => {
    const files = store(2500);
    const writer = files.writer('acme', { filename: 'big.jsonl', purpose: 'batch' });
    await writer.write(Buffer.alloc(2000, 'a'));
    await expect(writer.write(Buffer.alloc(1000, 'a'))).rejects.toMatchObject({ code: 'payload_too_large' });
    expect((await files.list('acme', { limit: 10, order: 'desc' })).data).toEqual([]);
  });

  it('lists newest first, pages with after, and drops expired entries', async () => {
    const files = store();
    const made = [];
    for (let i = 0; i < 5; i++) made.push(await put(files, 'acme', `file ${i}`, 1));
    const first = await files.list('acme', { limit: 2, order: 'desc' });
    expect(first.data.map((f) => f.id)).toEqual([made[4]!.id, made[3]!.id]);
    expect(first.has_more).toBe(true);
    const rest = await files.list('acme', { limit: 10, order: 'desc', after: made[3]!.id });
    expect(rest.data.map((f) => f.id)).toEqual([made[2]!.id, made[1]!.id, made[0]!.id]);
    expect(rest.has_more).toBe(false);
    await files.delete('acme', made[2]!.id);
    expect((await files.list('acme', { limit: 10, order: 'asc' })).data.map((f) => f.id)).toEqual([made[0]!.id, made[1]!.id, made[3]!.id, made[4]!.id]);
  });
});
