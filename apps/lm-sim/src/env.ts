// Reads the simulator's settings from the environment; a bad value names its variable.
import type { StartSimOptions } from './start-sim.js';

export class SimEnvError extends Error {
  readonly code = 'LM_SIM_BAD_ENV';
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'SimEnvError';
  }
}

type Env = Record<string, string | undefined>;

export function readSimEnv(env: Env): StartSimOptions & { port: number; host: string } {
  return {
    port: number(env, 'LM_SIM_PORT', 3100, { integer: true, max: 65_535 }),
    host: env.LM_SIM_HOST?.trim() || '127.0.0.1',
    latencyMs: number(env, 'LM_SIM_LATENCY_MS', 0, {}),
    latencyPerTokenMs: number(env, 'LM_SIM_LATENCY_PER_TOKEN_MS', 0, {}),
    seed: number(env, 'LM_SIM_SEED', 1, { integer: true, max: 2 ** 32 - 1 }),
  };
}

function number(env: Env, name: string, fallback: number, rules: { integer?: boolean; max?: number }): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  const max = rules.max ?? Number.MAX_SAFE_INTEGER;
  if (!Number.isFinite(value) || value < 0 || value > max || (rules.integer && !Number.isInteger(value))) {
    const kind = rules.integer ? 'an integer' : 'a number';
    const range = rules.max === undefined ? '>= 0' : `between 0 and ${rules.max}`;
    throw new SimEnvError(name, `expected ${kind} ${range}, got ${JSON.stringify(raw)}`);
  }
  return value;
}
