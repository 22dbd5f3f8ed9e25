// Liveness, readiness and metrics (open to scrapers and probes).
import { Router } from 'express';
import { PredictqError, type Metrics, type RedisConnection } from '@predictq/core';

export function systemRoutes(deps: { redis: RedisConnection; metrics: Metrics }): Router {
  const router = Router();
  router.get('/health', (_req, res) => void res.json({ status: 'ok' }));
  router.get('/ready', async (_req, res) => {
    const ping = deps.redis.ping();
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), 1000).unref());
    try {
      await Promise.race([ping, timeout]);
    } catch {
      throw new PredictqError('service_unavailable', 'Redis is not reachable');
    }
    res.json({ status: 'ready' });
  });
  router.get('/metrics', async (_req, res) => {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
  return router;
}
