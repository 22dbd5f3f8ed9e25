// A cache answer from the producer's fast path costs nothing; what it saved (the cached call's
// usage at today's price) goes to the usage ledger and the savings metrics.
import { microsToUsd, type CostTracker, type Metrics, type PredictionJobData } from '@predictq/core';
import type { PredictionObject } from './prediction-object.js';

export function createCacheSavings(deps: { cost: CostTracker; metrics: Metrics }) {
  const { cost, metrics } = deps;
  cost.events.on('cost:saved', (e) => {
    if (e.savedMicros > 0) metrics.costSavedUsd.inc({ model: e.model }, microsToUsd(e.savedMicros));
    if (e.savedTokens.prompt) metrics.tokensSaved.inc({ model: e.model, type: 'prompt' }, e.savedTokens.prompt);
    if (e.savedTokens.completion) metrics.tokensSaved.inc({ model: e.model, type: 'completion' }, e.savedTokens.completion);
  });
  return async (data: PredictionJobData, answered: PredictionObject): Promise<number> =>
    answered.usage
      ? cost.recordCacheHit({ tenant: data.tenant, model: answered.model, route: data.route, variant: answered.variant, usage: answered.usage })
      : 0;
}
