import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Cross-process test files that run a second time against a 3-master Redis Cluster
 * (project "cluster"), besides their run against one Redis. They reach Redis only through
 * the apps (REDIS_URL), so the same file tests both. test/test-projects.test.ts checks that
 * each one exists, so a renamed file cannot drop out of the cluster run unnoticed.
 */
export const CLUSTER_TEST_FILES = [
  'test/predictions.e2e.test.ts',
  'test/cache.e2e.test.ts',
  'test/cost.e2e.test.ts',
  'test/resilience-breaker.e2e.test.ts',
  'test/redis-cluster.e2e.test.ts',
  'test/batches.e2e.test.ts',
  'test/openai-api.e2e.test.ts',
  'test/webhooks.e2e.test.ts',
  'test/programs.e2e.test.ts',
  'test/experiments-shadow.e2e.test.ts',
];

export default defineConfig({
  // Workspace packages resolve to their TypeScript source, so tests never run stale builds.
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'], externalConditions: ['source'] } },
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Cross-process tests start their own workers; two files at a time suits a 2-core machine.
    maxWorkers: 2,
    fileParallelism: true,
    projects: [
      {
        extends: true,
        test: {
          name: 'redis',
          include: ['packages/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts', 'test/**/*.test.ts'],
          // Checks of cluster specifics (keys spread over nodes, slots) need the cluster.
          exclude: [...configDefaults.exclude, 'test/redis-cluster.e2e.test.ts'],
          globalSetup: ['test/utils/global-setup.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'cluster',
          include: CLUSTER_TEST_FILES,
          globalSetup: ['test/utils/global-setup-cluster.ts'],
        },
      },
    ],
  },
});
