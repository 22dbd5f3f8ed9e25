// The cost metrics, counted from the cost tracker's events the same way in every process
// (workers settle calls; producers refuse spent budgets and answer cache hits).
import type { BudgetState, CostEvents } from '../cost/index.js';
import { microsToUsd } from '../cost/usage-cost.js';
import type { Metrics } from './metrics.js';

export function setBudgetRemaining(metrics: Metrics, states: readonly BudgetState[]): void {
  for (const s of states) {
    metrics.budgetRemaining.set({ budget: s.budget, window: s.window }, microsToUsd(Math.max(0, s.limitMicros - s.spentMicros)));
  }
}

export function countCostEvents(events: CostEvents, metrics: Metrics): void {
  events.on('cost:settled', (e) => {
    if (e.costMicros > 0) metrics.costUsd.inc({ model: e.model }, microsToUsd(e.costMicros));
    setBudgetRemaining(metrics, e.budgets);
  });
  events.on('cost:saved', (e) => {
    if (e.savedMicros > 0) metrics.costSavedUsd.inc({ model: e.model }, microsToUsd(e.savedMicros));
    if (e.savedTokens.prompt) metrics.tokensSaved.inc({ model: e.model, type: 'prompt' }, e.savedTokens.prompt);
    if (e.savedTokens.completion) metrics.tokensSaved.inc({ model: e.model, type: 'completion' }, e.savedTokens.completion);
  });
  events.on('cost:unpriced', ({ model }) => metrics.costUnpriced.inc({ model }));
  events.on('budget:refused', (e) => metrics.budgetRefusals.inc({ budget: e.budget, window: e.window, outcome: e.outcome }));
  events.on('budget:soft_limit', (e) => metrics.budgetSoftLimit.inc({ budget: e.budget, window: e.window }));
}
