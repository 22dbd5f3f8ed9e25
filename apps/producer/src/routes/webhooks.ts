// /v1/webhooks/deliveries: a tenant's delivery history and manual redelivery.
import { Router } from 'express';
import { z } from 'zod';
import { PredictqError, type DeliveryHistory } from '@predictq/core';

const ListQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).default(20),
    starting_after: z.string().min(1).max(64).optional(),
  })
  .strict();

export function webhookRoutes(deps: { history: DeliveryHistory }): Router {
  const { history } = deps;
  const router = Router();

  router.get('/v1/webhooks/deliveries', async (req, res) => {
    const parsed = ListQuerySchema.safeParse(req.query);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new PredictqError('invalid_request', `${issue?.path.join('.') || 'query'}: ${issue?.message ?? 'invalid'}`);
    }
    const page = await history.list(req.tenant!, { limit: parsed.data.limit, startingAfter: parsed.data.starting_after });
    res.json({ object: 'list', ...page });
  });

  router.get('/v1/webhooks/deliveries/:id', async (req, res) => {
    const delivery = await history.get(req.params.id!, req.tenant!);
    if (!delivery) throw new PredictqError('not_found', `no webhook delivery ${req.params.id} (finished deliveries are kept for a limited time)`);
    res.json(delivery);
  });

  router.post('/v1/webhooks/deliveries/:id/retry', async (req, res) => {
    const delivery = await history.retry(req.params.id!, req.tenant!);
    if (!delivery) throw new PredictqError('not_found', `no webhook delivery ${req.params.id}`);
    res.status(202).json(delivery);
  });

  return router;
}
