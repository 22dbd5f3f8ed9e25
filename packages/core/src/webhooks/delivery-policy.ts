// What an attempt's result means for the delivery, and when the next attempt runs. Pure, so the
// schedule is unit-tested without a queue.
import type { WebhookSettings } from '../config/index.js';

/** The attempt outcomes (a bounded metric label). */
export const ATTEMPT_OUTCOMES = ['ok', 'client_error', 'redirect', 'server_error', 'rate_limited', 'timeout', 'network_error', 'refused'] as const;
export type AttemptOutcome = (typeof ATTEMPT_OUTCOMES)[number];

/** Network errors, timeouts, 5xx, 408 and 429 are retried; other 4xx, redirects and refused addresses are not. */
export function isRetryableOutcome(outcome: AttemptOutcome): boolean {
  return outcome === 'server_error' || outcome === 'rate_limited' || outcome === 'timeout' || outcome === 'network_error';
}

export function outcomeOfStatus(status: number): AttemptOutcome {
  if (status >= 200 && status < 300) return 'ok';
  if (status === 408 || status === 429) return 'rate_limited';
  if (status >= 500) return 'server_error';
  if (status >= 300 && status < 400) return 'redirect';
  return 'client_error';
}

/**
 * The delay before retry number `retry` (1 after the first failed attempt): the configured delay
 * spread by the jitter, and never sooner than the receiver's Retry-After (capped).
 */
export function retryDelayMs(
  settings: Pick<WebhookSettings, 'retry_delays_ms' | 'jitter' | 'retry_after_max_ms'>,
  retry: number,
  retryAfterMs: number | undefined,
  random: () => number = Math.random,
): number {
  const scheduled = settings.retry_delays_ms[Math.min(retry, settings.retry_delays_ms.length) - 1] ?? 0;
  const spread = scheduled * settings.jitter * (2 * random() - 1);
  const delay = Math.max(0, Math.round(scheduled + spread));
  if (retryAfterMs === undefined) return delay;
  return Math.max(delay, Math.min(retryAfterMs, settings.retry_after_max_ms));
}
