import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Workspace packages resolve to their TypeScript source, so tests never run stale builds.
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'], externalConditions: ['source'] } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/utils/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Cross-process tests start their own workers; two files at a time suits a 2-core machine.
    maxWorkers: 2,
    fileParallelism: true,
  },
});
