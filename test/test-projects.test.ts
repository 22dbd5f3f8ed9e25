// The test projects themselves: every file the "cluster" project names exists (vitest runs
// what an include matches and says nothing of an entry that matches none), and they are the
// cross-process tests of predictions, cache single-flight, budgets and the breaker.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import config, { CLUSTER_TEST_FILES } from '../vitest.config.js';
import { ROOT } from './utils/processes.js';

describe('vitest projects', () => {
  it('runs existing cross-process test files on the Redis Cluster too', () => {
    for (const file of CLUSTER_TEST_FILES) expect(existsSync(join(ROOT, file)), file).toBe(true);
    for (const file of ['predictions', 'cache', 'cost', 'resilience-breaker']) expect(CLUSTER_TEST_FILES).toContain(`test/${file}.e2e.test.ts`);
    const projects = (config.test?.projects ?? []) as Array<{ test: { name: string; include?: string[] } }>;
    expect(projects.map((p) => p.test.name)).toEqual(['redis', 'cluster']);
    expect(projects.find((p) => p.test.name === 'cluster')!.test.include).toEqual(CLUSTER_TEST_FILES);
  });
});
