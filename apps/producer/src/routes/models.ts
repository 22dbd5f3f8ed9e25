// GET /v1/models and /v1/models/:id in OpenAI's shape: the configured routes' models (a route's
// name works as a model id too, as in requests).
import { Router } from 'express';
import { PredictqError, findRoute, type Config, type RouteConfig } from '@predictq/core';

function modelObject(route: RouteConfig) {
  return { id: route.model, object: 'model' as const, created: 0, owned_by: 'predictq', route: route.name };
}

export function modelRoutes(config: Config): Router {
  const router = Router();
  router.get('/v1/models', (_req, res) => {
    res.json({ object: 'list', data: config.routes.map(modelObject) });
  });
  router.get('/v1/models/:id', (req, res) => {
    const id = String(req.params.id);
    const route = findRoute(config, id);
    if (!route) throw new PredictqError('unknown_model', `The model \`${id}\` does not exist`, { details: { field: 'model' } });
    res.json(modelObject(route));
  });
  return router;
}
