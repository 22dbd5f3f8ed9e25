// Redis connection factories. Workers' BullMQ connections wait out Redis outages
// (maxRetriesPerRequest: null); cache, ledger and producer connections fail fast instead.
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

/**
 * The producer's connection, for answering HTTP requests: a command fails at once while Redis is
 * unreachable, and a command in flight when the connection drops is rejected rather than resent
 * after the reconnect, so a request answered with an error is never enqueued later.
 */
export function createProducerConnection(url: string, options: RedisOptions = {}): Redis {
  return createFastConnection(url, { autoResendUnfulfilledCommands: false, ...options });
}
