// The call accounting Lua scripts (reserve, settle, release: one atomic step each, across workers).
import type { RedisConnection } from '../queue/connection.js';
import { defineScripts, type ScriptCall } from '../redis/index.js';

export type BudgetScripts = Record<'reserve' | 'settle' | 'release', ScriptCall>;

export function budgetScripts(redis: RedisConnection): BudgetScripts {
  const scripted = defineScripts(redis, import.meta.url, {
    predictqReserveCall: './lua/reserve-call-5.lua',
    predictqSettleCall: './lua/settle-calls-7.lua',
    predictqReleaseCall: './lua/release-call-5.lua',
  });
  return {
    reserve: (...args) => scripted.predictqReserveCall(...args),
    settle: (...args) => scripted.predictqSettleCall(...args),
    release: (...args) => scripted.predictqReleaseCall(...args),
  };
}
