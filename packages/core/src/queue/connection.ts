// Redis connection factories. BullMQ connections wait out Redis outages
// (maxRetriesPerRequest: null); cache and ledger connections fail fast instead.
import { Redis, type RedisOptions } from 'ioredis';

export function createQueueConnection(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, ...options });
}

export function createFastConnection(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    commandTimeout: 1000,
    enableOfflineQueue: false,
    retryStrategy: (times) => Math.min(times * 200, 2000),
    ...options,
  });
}
