// The cache's Redis scripts (read-or-lock, fill-and-release, lock release and renewal), typed.
import type { RedisConnection } from '../queue/connection.js';
import { defineScripts } from '../redis/index.js';

export interface CacheScripts {
  /** [stored value, 1 when the lock is now ours, the lock's value when another holds it]. */
  cacheReadOrLockBuffer(valueKey: string, lockKey: string, token: string, lockTtlMs: number): Promise<[Buffer | null, number, Buffer | null]>;
  /** Stores the answer and releases the lock if `token` still holds it: 1 when it did. */
  cacheFillAndRelease(valueKey: string, lockKey: string, value: Buffer | string, ttlMs: number, token: string): Promise<number>;
  cacheReleaseLock(lockKey: string, token: string, marker: string, markerTtlMs: number): Promise<number>;
  cacheExtendLock(lockKey: string, token: string, ttlMs: number): Promise<number>;
}

export function withCacheScripts(redis: RedisConnection): RedisConnection & CacheScripts {
  const scripted = defineScripts(redis, import.meta.url, {
    cacheReadOrLock: './lua/read-or-lock-2.lua',
    cacheFillAndRelease: './lua/fill-and-release-2.lua',
    cacheReleaseLock: './lua/release-lock-1.lua',
    cacheExtendLock: './lua/extend-lock-1.lua',
  });
  return scripted as unknown as RedisConnection & CacheScripts;
}
