// Cross-field checks of the cost settings, run when the config is validated (so a bad
// setting stops start-up with its path).
import { PriceTable, type ModelPriceUsd, type UnknownModelPrice } from './prices.js';

/** The part of the config these checks read (structural, so config/schema.ts can use it). */
export interface CostSettings {
  routes: ReadonlyArray<{ model: string }>;
  tenants: ReadonlyArray<{ name: string }>;
  prices: Readonly<Record<string, ModelPriceUsd>>;
  unknown_model_price: UnknownModelPrice;
  budgets: { global?: BudgetLimits | undefined; tenants: Readonly<Record<string, BudgetLimits>> };
}

interface BudgetLimits {
  daily_usd?: number | undefined;
  monthly_usd?: number | undefined;
}

export interface ConfigIssue {
  path: Array<string | number>;
  message: string;
}

/** Without configured tenants every request belongs to this tenant. */
const DEFAULT_TENANT = 'default';

export function costConfigIssues(config: CostSettings): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (config.unknown_model_price === 'fail') {
    const table = new PriceTable(config.prices);
    config.routes.forEach((route, i) => {
      if (!table.lookup(route.model)) {
        issues.push({ path: ['routes', i, 'model'], message: `no price for model "${route.model}": add it to "prices" (unknown_model_price is "fail")` });
      }
    });
  }
  const tenants = new Set(config.tenants.length > 0 ? config.tenants.map((t) => t.name) : [DEFAULT_TENANT]);
  for (const [tenant, budget] of Object.entries(config.budgets.tenants)) {
    if (!tenants.has(tenant)) {
      issues.push({ path: ['budgets', 'tenants', tenant], message: `no tenant is named "${tenant}" (without configured tenants, use "${DEFAULT_TENANT}")` });
    }
    if (budget.daily_usd === undefined && budget.monthly_usd === undefined) {
      issues.push({ path: ['budgets', 'tenants', tenant], message: 'set daily_usd, monthly_usd or both' });
    }
  }
  const global = config.budgets.global;
  if (global && global.daily_usd === undefined && global.monthly_usd === undefined) {
    issues.push({ path: ['budgets', 'global'], message: 'set daily_usd, monthly_usd or both' });
  }
  return issues;
}
