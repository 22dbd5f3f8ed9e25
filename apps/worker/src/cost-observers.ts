// Cost metrics and budget log lines, hung off the cost tracker's events. Cache hits are priced
// here: an ok outcome whose result says cache.hit carries the usage of the call it saved.
import {
  countCostEvents,
  microsToUsd,
  setBudgetRemaining,
  type CostTracker,
  type Logger,
  type Metrics,
  type PipelineEvents,
} from '@predictq/core';

const GAUGE_ATTEMPTS = 5;

export function observeCost(pipelineEvents: PipelineEvents, metrics: Metrics, logger: Logger, cost: CostTracker): void {
  const events = cost.events;
  countCostEvents(events, metrics);
  const unpricedLogged = new Set<string>();
  events.on('cost:unpriced', ({ model }) => {
    // Models come from configured routes, so this set stays small.
    if (!unpricedLogged.has(model)) {
      unpricedLogged.add(model);
      logger.warn({ model }, `model "${model}" has no price: its calls cost 0 (set "prices" in the config)`);
    }
  });
  events.on('budget:refused', (e) => {
    if (e.outcome === 'exhausted') {
      logger.info(
        { budget: e.budget, window: e.window, policy: e.policy, resets_at: new Date(e.resetsAt).toISOString() },
        'budget spent: prediction refused',
      );
    }
  });
  events.on('budget:soft_limit', (e) => {
    logger.warn(
      {
        budget: e.budget,
        window: e.window,
        spent_usd: microsToUsd(e.spentMicros),
        limit_usd: microsToUsd(e.limitMicros),
        soft_limit_percent: e.softLimitPercent,
      },
      'budget soft limit crossed',
    );
  });
  pipelineEvents.on('prediction:outcome', ({ data, outcome }) => {
    if (outcome.kind !== 'ok' || !outcome.result.cache.hit || !data) return;
    const { result } = outcome;
    void cost.recordCacheHit({ tenant: data.tenant, model: result.model, route: result.route, variant: result.variant, usage: result.usage });
  });
  pipelineEvents.on('chat:outcome', ({ data, outcome }) => {
    if (outcome.kind !== 'ok' || !outcome.result.cache.hit || !data) return;
    const { result } = outcome;
    void cost.recordCacheHit({ tenant: data.tenant, model: result.model, route: result.route, variant: null, usage: result.usage });
  });

  // Remaining-budget gauges from the start, not only after this worker's first settlement.
  let attempts = 0;
  const initialise = () => {
    cost.budgets.snapshot().then((states) => setBudgetRemaining(metrics, states), () => {
      if (++attempts < GAUGE_ATTEMPTS) setTimeout(initialise, 1000).unref();
    });
  };
  if (cost.budgets.limits.length > 0) setTimeout(initialise, 200).unref();
}
