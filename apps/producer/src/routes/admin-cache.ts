// POST /admin/cache/invalidate: O(1) invalidation by bumping generation counters (everything,
// a namespace, or a program), and the `cache` section of GET /admin/stats.
import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import { PredictqError, type Config, type TieredCache } from '@predictq/core';
import type { StatsSource } from './admin.js';

const InvalidateSchema = z
  .object({
    /** Every cached answer. */
    all: z.literal(true).optional(),
    /** One namespace: "shared" or "tenant:<name>". */
    namespace: z.string().min(1).max(200).optional(),
    /** Every answer of a configured program (all namespaces). */
    program: z.string().min(1).max(128).optional(),
  })
  .strict();

export function adminCacheRoutes(deps: { auth: RequestHandler; config: Config; cache: TieredCache | undefined }): {
  router: Router;
  stats: StatsSource;
} {
  const { config, cache } = deps;
  const tenants = new Set(config.tenants.length ? config.tenants.map((t) => t.name) : ['default']);
  const router = Router();
  router.post('/admin/cache/invalidate', deps.auth, async (req, res) => {
    const parsed = InvalidateSchema.safeParse(req.body ?? {});
    if (!parsed.success) {
      throw new PredictqError('invalid_request', 'send {"all": true}, {"namespace": "shared" | "tenant:<name>"} or {"program": "<name>"}');
    }
    const { all, namespace, program } = parsed.data;
    if (!all && namespace === undefined && program === undefined) {
      throw new PredictqError('invalid_request', 'name what to invalidate: "all", "namespace" or "program"');
    }
    // Only configured names, so the counters stay a bounded set.
    if (namespace !== undefined && namespace !== 'shared' && !(namespace.startsWith('tenant:') && tenants.has(namespace.slice(7)))) {
      throw new PredictqError('invalid_request', `namespace must be "shared" or "tenant:<configured tenant>", got "${namespace}"`);
    }
    if (program !== undefined && !config.programs[program]) {
      throw new PredictqError('unknown_program', `program "${program}" is not configured`);
    }
    if (!cache) throw new PredictqError('service_unavailable', 'the cache is disabled (cache.enabled is false)');
    let generations: Record<string, number>;
    try {
      generations = await cache.invalidate({ ...(all ? { all } : {}), ...(namespace ? { scope: namespace } : {}), ...(program ? { program } : {}) });
    } catch {
      throw new PredictqError('service_unavailable', 'the cache Redis is unreachable; nothing was invalidated');
    }
    res.json({ invalidated: true, generations });
  });
  const stats: StatsSource = async () => (cache ? cache.snapshot() : { enabled: false });
  return { router, stats };
}
