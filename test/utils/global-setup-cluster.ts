// The "cluster" test project's Redis: a private 3-master Redis Cluster. `redisUrl` is its
// seed list, which predictq's REDIS_URL takes as it is.
import type { TestProject } from 'vitest/node';
import { startRedisCluster } from './redis-cluster.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const cluster = await startRedisCluster();
  project.provide('redisUrl', cluster.url);
  return () => cluster.stop();
}
