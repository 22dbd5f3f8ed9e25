// Default options of every prediction job: attempts with exponential backoff and jitter, and
// retention of finished jobs by age and count so Redis memory stays bounded.
import type { JobsOptions } from 'bullmq';
import type { QueueSettings } from '../config/index.js';

/**
 * BullMQ priority: lower runs first, and a job with none (0) runs before every prioritized one.
 * Interactive requests take that plain FIFO list, which is also BullMQ's cheapest add and fetch
 * (the prioritized set costs a counter and a sorted set); batch items and shadows wait behind them.
 */
export const PRIORITY = { interactive: 0, batch: 10 } as const;

export function defaultJobOptions(settings: QueueSettings): JobsOptions {
  return {
    attempts: settings.attempts,
    backoff: { type: 'exponential', delay: settings.backoff_ms, jitter: 0.5 },
    removeOnComplete: { age: settings.keep_completed_s, count: settings.keep_completed_count },
    removeOnFail: { age: settings.keep_failed_s, count: settings.keep_failed_count },
  };
}
