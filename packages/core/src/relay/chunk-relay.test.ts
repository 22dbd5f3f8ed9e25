// The relay against a real Redis: a reader sees every event in order from the start (even when
// it starts late), batched chunks included, and its keys are capped and expiring.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { RELAY_TTL_S, RelayReader, RelayWriter, relayKey, type RelayEvent } from './chunk-relay.js';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

describe('chunk relay (real Redis)', () => {
  let redis: Redis;
  let reader: RelayReader;
  beforeAll(() => {
    redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
    reader = new RelayReader(redis, { blockMs: 200 });
  });
  afterAll(() => {
    reader.close();
    redis.disconnect();
  });

  async function readAll(key: string): Promise<RelayEvent[]> {
    const events: RelayEvent[] = [];
    for await (const event of reader.read(key, new AbortController().signal)) if (event.type !== 'idle') events.push(event);
    return events;
  }

  it('delivers start, every chunk in order, and end, to a reader that starts before or after the writer', async () => {
    const key = relayKey(`t${randomUUID().slice(0, 8)}`, 'job-1');
    const early = readAll(key);
    const writer = new RelayWriter(redis, key);
    writer.start('miss');
    for (let i = 0; i < 500; i++) writer.chunk({ i });
    await writer.end(0.25);
    const late = await readAll(key);
    for (const events of [await early, late]) {
      expect(events[0]).toEqual({ type: 'start', cache: 'miss' });
      expect(events.at(-1)).toEqual({ type: 'end', cost_usd: 0.25 });
      const chunks = events.flatMap((e) => (e.type === 'chunks' ? e.chunks : []));
      expect(chunks).toEqual(Array.from({ length: 500 }, (_, i) => ({ i })));
    }
    // Chunks that came while a write was in flight went out together.
    expect(late.filter((e) => e.type === 'chunks').length).toBeLessThan(500);
    const ttl = await redis.ttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(RELAY_TTL_S);
  });

  it('ends a read with the error event, and yields idle while nothing comes', async () => {
    const key = relayKey(`t${randomUUID().slice(0, 8)}`, 'job-2');
    const seen: string[] = [];
    const reading = (async () => {
      for await (const event of reader.read(key, new AbortController().signal)) {
        seen.push(event.type);
        if (event.type === 'idle' && seen.filter((t) => t === 'idle').length === 1) {
          await new RelayWriter(redis, key).error({ code: 'lm_upstream_error', message: 'boom' });
        }
      }
    })();
    await reading;
    expect(seen).toEqual(['idle', 'error']);
  });
});
