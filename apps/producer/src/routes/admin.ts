// /admin/*: operations endpoints behind the admin key. Features register a section of
// GET /admin/stats as a named source.
import { Router, type RequestHandler } from 'express';

export type StatsSource = () => Promise<unknown> | unknown;

export function adminRoutes(deps: { auth: RequestHandler; stats: Record<string, StatsSource> }): Router {
  const router = Router();
  router.use('/admin', deps.auth);
  router.get('/admin/stats', async (_req, res) => {
    const entries = await Promise.all(
      Object.entries(deps.stats).map(async ([name, source]) => [name, await source()] as const),
    );
    res.json(Object.fromEntries(entries));
  });
  return router;
}
