// The budget Lua scripts (reserve, settle, release: one atomic step each, across workers).
import type { Redis } from 'ioredis';
import { defineScripts, type ScriptCall } from '../redis/index.js';

export type BudgetScripts = Record<'reserve' | 'settle' | 'release', ScriptCall>;

export function budgetScripts(redis: Redis): BudgetScripts {
  const scripted = defineScripts(redis, import.meta.url, {
    predictqReserveBudget: './lua/reserve-budget-4.lua',
    predictqSettleBudget: './lua/settle-budget-4.lua',
    predictqReleaseBudget: './lua/release-budget-4.lua',
  });
  return {
    reserve: (...args) => scripted.predictqReserveBudget(...args),
    settle: (...args) => scripted.predictqSettleBudget(...args),
    release: (...args) => scripted.predictqReleaseBudget(...args),
  };
}
