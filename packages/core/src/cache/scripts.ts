// The cache's Redis scripts (lock release and renewal), typed.
import type { RedisConnection } from '../queue/connection.js';
import { defineScripts } from '../redis/index.js';

export interface CacheScripts {
  cacheReleaseLock(lockKey: string, token: string, marker: string, markerTtlMs: number): Promise<number>;
  cacheExtendLock(lockKey: string, token: string, ttlMs: number): Promise<number>;
}

export function withCacheScripts(redis: RedisConnection): RedisConnection & CacheScripts {
  const scripted = defineScripts(redis, import.meta.url, {
    cacheReleaseLock: './lua/release-lock-1.lua',
    cacheExtendLock: './lua/extend-lock-1.lua',
  });
  return scripted as unknown as RedisConnection & CacheScripts;
}
