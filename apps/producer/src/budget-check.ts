// The producer's budget pre-check (issue 5): a tenant whose budget cannot fit the request's
// worst case gets 402 budget_exceeded before anything is enqueued. Workers enforce budgets
// atomically anyway, so a ledger outage here lets the request through rather than failing it.
import { PredictqError, buildPrompt, type Config, type CostTracker, type Logger, type PredictionJobData } from '@predictq/core';

export type BudgetCheck = (data: PredictionJobData) => Promise<void>;

export function createBudgetCheck(deps: { config: Config; cost: CostTracker; logger: Logger }): BudgetCheck {
  const { config, cost, logger } = deps;
  return async (data) => {
    if (!cost.budgets.applies(data.tenant)) return;
    const route = config.routes.find((r) => r.name === data.route);
    if (!route) return;
    try {
      const { messages } = buildPrompt(data);
      await cost.precheck(data.tenant, route.model, messages, data.params.max_tokens ?? route.default_max_tokens);
    } catch (err) {
      if (err instanceof PredictqError && err.code === 'budget_exceeded') throw err;
      logger.warn({ err: { message: (err as Error).message } }, 'budget pre-check skipped: the ledger is unreachable');
    }
  };
}
