// Redis Cluster specifics, on the "cluster" project's private 3-master cluster (the other
// cross-process tests run on it unchanged, see CLUSTER_TEST_FILES): the stack really spreads
// over the masters, and the keys that one script, pipeline or MULTI touches together share a slot.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Redis } from 'ioredis';
import { createFastConnection, duplicateConnection, parseRedisAddress } from '@predictq/core';
import { request } from './utils/http.js';
import { startStack, type Stack } from './utils/stack.js';

/** Every key under `pattern` on each master, by node port. */
async function keysByNode(pattern: string): Promise<Map<number, string[]>> {
  const out = new Map<number, string[]>();
  for (const seed of parseRedisAddress(inject('redisUrl')).seeds) {
    const node = new Redis({ host: seed.host, port: seed.port });
    try {
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, batch] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        keys.push(...batch);
        cursor = next;
      } while (cursor !== '0');
      out.set(seed.port, keys);
    } finally {
      node.disconnect();
    }
  }
  return out;
}

const nodesHolding = (byNode: Map<number, string[]>, test: (key: string) => boolean) =>
  [...byNode.entries()].filter(([, keys]) => keys.some(test)).map(([port]) => port);

describe('a stack on a 3-master Redis Cluster', () => {
  let stack: Stack;
  beforeAll(async () => {
    expect(parseRedisAddress(inject('redisUrl')).cluster).toBe(true);
    stack = await startStack({ workers: 1, config: { budgets: { tenants: { default: { daily_usd: 100 } } } } });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('keeps each queue and the budgets in one slot, and spreads cache entries over the masters', async () => {
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        request(`${stack.url}/v1/predictions`, {
          body: { signature: 'question -> answer', inputs: { question: `spread ${i} ${randomUUID()}` } },
          headers: { prefer: 'wait=20' },
        }),
      ),
    );
    expect(answers.map((a) => a.body.status)).toEqual(Array(20).fill('succeeded'));

    const queueKeys = await keysByNode(`{${stack.keyPrefix}}:*`);
    expect(nodesHolding(queueKeys, () => true)).toHaveLength(1);
    const keys = await keysByNode(`${stack.keyPrefix}:*`);
    expect(nodesHolding(keys, (k) => k.includes(':{budget}:'))).toHaveLength(1);
    // 20 entries hashed by their own key over 3 masters: all on one is a 3^-19 chance.
    const cacheNodes = nodesHolding(keys, (k) => /:cache:\{[0-9a-f]+\}:v$/.test(k));
    expect(cacheNodes.length).toBeGreaterThanOrEqual(2);

    // The autoscaling signal reads the queues, breaker and recent results on the cluster too.
    const stats = await request(`${stack.url}/admin/stats`, { headers: { authorization: 'Bearer test-admin-key' } });
    expect(stats.body.autoscale.recommended.routes).toMatchObject([{ route: 'default', backlog: 0, cap: null }]);
    expect(await (await fetch(`${stack.url}/metrics`)).text()).toMatch(/^dspy_workers_recommended\{route="default"\} 0$/m);
  });

  it('duplicates a Cluster connection with its options changed', async () => {
    const fast = createFastConnection(inject('redisUrl'));
    const copy = duplicateConnection(fast, { maxRetriesPerRequest: null, enableOfflineQueue: true });
    try {
      expect(fast.isCluster).toBe(true);
      expect(copy.isCluster).toBe(true);
      expect(await copy.ping()).toBe('PONG');
      const key = `${stack.keyPrefix}:dup:${randomUUID()}`;
      await copy.set(key, 'v', 'EX', 60);
      expect(await copy.get(key)).toBe('v');
    } finally {
      fast.disconnect();
      copy.disconnect();
    }
  });
});
