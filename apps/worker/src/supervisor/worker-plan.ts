// How many workers `npm start` runs: PREDICTQ_WORKERS (a count from 1 to 64, or "auto"), else
// autoscaling when the config has an `autoscale` section, else one worker.
import { AutoscaleSettingsSchema, ConfigError, type Config } from '@predictq/core';
import type { WorkerPlan } from './supervisor.js';

export const MAX_FIXED_WORKERS = 64;

export function workerPlan(config: Config, raw: string | undefined): WorkerPlan {
  const value = raw?.trim() ?? '';
  if (value === 'auto') return { mode: 'auto', settings: config.autoscale ?? AutoscaleSettingsSchema.parse({}) };
  if (value === '') return config.autoscale ? { mode: 'auto', settings: config.autoscale } : { mode: 'fixed', workers: 1 };
  const workers = Number(value);
  if (!/^\d+$/.test(value) || workers < 1 || workers > MAX_FIXED_WORKERS) {
    throw new ConfigError(`PREDICTQ_WORKERS must be "auto" or a whole number from 1 to ${MAX_FIXED_WORKERS}, got "${raw}"`);
  }
  return { mode: 'fixed', workers };
}
