import { describe, expect, inject, it } from 'vitest';
import { createFastConnection, duplicateConnection, parseRedisAddress } from './connection.js';

describe('parseRedisAddress', () => {
  it('reads one URL as one Redis', () => {
    expect(parseRedisAddress('redis://10.0.0.1:6380')).toEqual({ cluster: false, seeds: [{ host: '10.0.0.1', port: 6380 }], nodeOptions: {} });
  });

  it('reads several seeds as a Cluster, with the credentials and TLS of the URLs', () => {
    const address = parseRedisAddress('rediss://user:p%40ss@a.example:7000, rediss://user:p%40ss@b.example');
    expect(address.cluster).toBe(true);
    expect(address.seeds).toEqual([
      { host: 'a.example', port: 7000 },
      { host: 'b.example', port: 6379 },
    ]);
    expect(address.nodeOptions).toEqual({ username: 'user', password: 'p@ss', tls: {} });
  });
});

describe('connections to one Redis', () => {
  it('are plain ioredis clients, and a duplicate keeps the address with the options changed', async () => {
    const fast = createFastConnection(inject('redisUrl'));
    const copy = duplicateConnection(fast, { enableOfflineQueue: true });
    try {
      expect(fast.isCluster).toBe(false);
      expect(copy.isCluster).toBe(false);
      expect(copy.options.enableOfflineQueue).toBe(true);
      expect(await copy.ping()).toBe('PONG');
    } finally {
      fast.disconnect();
      copy.disconnect();
    }
  });
});
