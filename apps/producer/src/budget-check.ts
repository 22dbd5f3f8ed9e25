// The producer's budget pre-check: a tenant whose budget cannot fit the request's worst case
// gets 402 budget_exceeded before anything is enqueued. Workers enforce budgets atomically
// anyway, so a ledger outage here lets the request through rather than failing it.
import { PredictqError, estimatePromptTokens, type CostTracker, type Logger } from '@predictq/core';
import type { ResolvedPrediction } from './prediction-request.js';

export type BudgetCheck = (resolved: ResolvedPrediction) => Promise<void>;

export function createBudgetCheck(deps: { cost: CostTracker; logger: Logger }): BudgetCheck {
  const { cost, logger } = deps;
  return async ({ data, prepared }) => {
    if (!cost.budgets.applies(data.tenant)) return;
    try {
      await cost.precheck(data.tenant, prepared.route.model, estimatePromptTokens(prepared.messages), prepared.params.max_tokens);
    } catch (err) {
      if (err instanceof PredictqError && err.code === 'budget_exceeded') throw err;
      logger.warn({ err: { message: (err as Error).message } }, 'budget pre-check skipped: the ledger is unreachable');
    }
  };
}
