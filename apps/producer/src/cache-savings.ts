// A cache answer from the producer's fast path costs nothing; what it saved (the cached call's
// usage at today's price) goes to the usage ledger (and, through the cost events, the metrics).
import type { CostTracker, PredictionJobData } from '@predictq/core';
import type { PredictionObject } from './prediction-object.js';

export function createCacheSavings(cost: CostTracker) {
  return async (data: PredictionJobData, answered: PredictionObject): Promise<number> =>
    answered.usage
      ? cost.recordCacheHit({ tenant: data.tenant, model: answered.model, route: data.route, variant: answered.variant, usage: answered.usage })
      : 0;
}
