// Circuit breakers for operators: POST /admin/breakers/:route/reset closes a route's breaker
// for every worker at once (their next call sees it) and runs the jobs waiting for it; and a
// `breakers` section of /admin/stats.
import { Router, type RequestHandler } from 'express';
import { BreakerStore, PredictqError, type Config, type RedisConnection } from '@predictq/core';
import type { PredictionQueues } from '../prediction-queues.js';
import type { StatsSource } from './admin.js';

export function breakerStats(config: Config, store: BreakerStore): StatsSource {
  return async () =>
    Object.fromEntries(await Promise.all(config.routes.map(async (r) => [r.name, await store.snapshot(r.name)] as const)));
}

export function adminBreakerRoutes(deps: { auth: RequestHandler; config: Config; redis: RedisConnection; queues: PredictionQueues }): {
  router: Router;
  stats: StatsSource;
} {
  const store = new BreakerStore(deps.redis, deps.config.key_prefix);
  const routes = new Set(deps.config.routes.map((r) => r.name));
  const router = Router();
  router.post('/admin/breakers/:route/reset', deps.auth, async (req, res) => {
    const route = String(req.params.route);
    if (!routes.has(route)) throw new PredictqError('not_found', `no route "${route}"`);
    await store.close(route);
    // The jobs waiting for the breaker run now instead of at the end of their delay.
    await deps.queues.queue(route).promoteJobs();
    res.json({ route, breaker: await store.snapshot(route) });
  });
  return { router, stats: breakerStats(deps.config, store) };
}
