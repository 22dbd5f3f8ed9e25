// Per-tenant ingest limit on new predictions: 429 rate_limited with Retry-After.
import type { RequestHandler } from 'express';
import { PredictqError, type IngestLimiter } from '@predictq/core';

export function ingestLimit(limiter: IngestLimiter): RequestHandler {
  return (req, res, next) => {
    if (!limiter.enabled) return next();
    limiter.take(req.tenant!).then(
      () => next(),
      (err: unknown) => {
        const retryAfter = err instanceof PredictqError ? err.details?.retry_after_s : undefined;
        if (typeof retryAfter === 'number') res.setHeader('Retry-After', String(retryAfter));
        next(err);
      },
    );
  };
}
