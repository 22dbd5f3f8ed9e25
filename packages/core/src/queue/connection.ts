// Redis connection factories. Workers' BullMQ connections wait out Redis outages
// (maxRetriesPerRequest: null); cache, ledger and producer connections fail fast instead.
// A `redis_url` that lists several seeds (comma-separated) is a Redis Cluster: every factory
// then makes an ioredis Cluster with the same per-command behaviour.
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';

/** One Redis, or a Redis Cluster: the commands predictq uses exist on both. */
export type RedisConnection = Redis | Cluster;

export interface RedisAddress {
  cluster: boolean;
  seeds: Array<{ host: string; port: number }>;
  /** Credentials and TLS from the seed URLs, for every node of a cluster. */
  nodeOptions: RedisOptions;
}

/**
 * `redis://host:port` is one Redis; `redis://a:7000,redis://b:7000,...` (two seeds or more, any
 * node will do as a seed) is a Redis Cluster.
 */
export function parseRedisAddress(url: string): RedisAddress {
  const parts = url
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const urls = parts.map((part) => new URL(part));
  const first = urls[0];
  if (!first) throw new TypeError('a Redis address needs at least one redis:// URL');
  const nodeOptions: RedisOptions = {
    ...(first.username ? { username: decodeURIComponent(first.username) } : {}),
    ...(first.password ? { password: decodeURIComponent(first.password) } : {}),
    ...(first.protocol === 'rediss:' ? { tls: {} } : {}),
  };
  return {
    cluster: urls.length > 1,
    seeds: urls.map((u) => ({ host: u.hostname, port: Number(u.port || 6379) })),
    nodeOptions,
  };
}

/** Options that belong to the cluster as a whole rather than to each node's connection. */
function clusterOptions(options: RedisOptions): { node: RedisOptions; cluster: ClusterOptions } {
  // Each node connection keeps ioredis' own offline queue and retry strategy (the cluster
  // reconnects through its slot map); the caller's choices apply to the cluster.
  const { enableOfflineQueue, retryStrategy, enableReadyCheck, lazyConnect, ...node } = options;
  return {
    node,
    cluster: {
      ...(enableOfflineQueue === undefined ? {} : { enableOfflineQueue }),
      ...(enableReadyCheck === undefined ? {} : { enableReadyCheck }),
      ...(lazyConnect === undefined ? {} : { lazyConnect }),
      ...(retryStrategy ? { clusterRetryStrategy: (times: number) => retryStrategy(times) } : {}),
    },
  };
}

function connect(url: string, options: RedisOptions): RedisConnection {
  const address = parseRedisAddress(url);
  if (!address.cluster) return new Redis(url, options);
  const { node, cluster } = clusterOptions(options);
  return new Cluster(address.seeds, { ...cluster, redisOptions: { ...address.nodeOptions, ...node } });
}

export function createQueueConnection(url: string, options: RedisOptions = {}): RedisConnection {
  return connect(url, { maxRetriesPerRequest: null, enableReadyCheck: true, ...options });
}

export function createFastConnection(url: string, options: RedisOptions = {}): RedisConnection {
  return connect(url, {
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
export function createProducerConnection(url: string, options: RedisOptions = {}): RedisConnection {
  return createFastConnection(url, { autoResendUnfulfilledCommands: false, ...options });
}

/**
 * A new connection to the same Redis or Cluster with some options changed. (ioredis'
 * `duplicate()` takes options on a Redis but startup nodes first on a Cluster.)
 */
export function duplicateConnection(connection: RedisConnection, overrides: RedisOptions = {}): RedisConnection {
  if (!connection.isCluster) return (connection as Redis).duplicate(overrides);
  const cluster = connection as Cluster;
  const { node, cluster: whole } = clusterOptions(overrides);
  return cluster.duplicate(undefined, { ...whole, redisOptions: { ...cluster.options.redisOptions, ...node } });
}
