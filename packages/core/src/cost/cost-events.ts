// Typed cost and budget events (observers turn them into metrics and logs).
import { EventEmitter } from 'node:events';
import type { LmUsage } from '../lm/index.js';
import type { BudgetState } from './budgets.js';
import type { BudgetWindow } from './windows.js';

/** An LM call was paid for: its usage, its cost, and the budget windows it was added to. */
export interface CostSettledEvent {
  tenant: string;
  route: string;
  model: string;
  variant: string | null;
  usage: LmUsage;
  costMicros: number;
  budgets: BudgetState[];
}

/** A reservation did not fit: the window is spent (`exhausted`) or held by in-flight calls (`held`). */
export interface BudgetRefusedEvent {
  tenant: string;
  budget: string;
  window: BudgetWindow;
  policy: 'reject' | 'hold';
  outcome: 'exhausted' | 'held';
  resetsAt: number;
}

/** A window's spend crossed its soft limit (once per window, cluster-wide). */
export interface BudgetSoftLimitEvent extends BudgetState {
  tenant: string;
  softLimitPercent: number;
}

/** A cache hit: the call it saved, priced at today's price. */
export interface CostSavedEvent {
  tenant: string;
  route: string;
  model: string;
  variant: string | null;
  savedTokens: { prompt: number; completion: number };
  savedMicros: number;
}

export interface CostEventMap {
  'cost:settled': [CostSettledEvent];
  'cost:saved': [CostSavedEvent];
  /** A model without a price was charged 0 (unknown_model_price "zero"). */
  'cost:unpriced': [{ model: string }];
  'budget:refused': [BudgetRefusedEvent];
  'budget:soft_limit': [BudgetSoftLimitEvent];
}

export class CostEvents extends EventEmitter<CostEventMap> {}
