import { describe, expect, it } from 'vitest';
import { WebhookSettingsSchema } from '../config/index.js';
import { isRetryableOutcome, outcomeOfStatus, retryDelayMs } from './delivery-policy.js';

describe('delivery policy', () => {
  it('retries 5xx, 408 and 429 but no other 4xx or redirect', () => {
    expect([200, 204, 299].map(outcomeOfStatus)).toEqual(['ok', 'ok', 'ok']);
    expect([500, 502, 503].map((s) => isRetryableOutcome(outcomeOfStatus(s)))).toEqual([true, true, true]);
    expect([408, 429].map((s) => isRetryableOutcome(outcomeOfStatus(s)))).toEqual([true, true]);
    expect([400, 401, 403, 404, 410, 422].map((s) => isRetryableOutcome(outcomeOfStatus(s)))).toEqual([false, false, false, false, false, false]);
    expect(outcomeOfStatus(301)).toBe('redirect');
    expect(isRetryableOutcome('redirect')).toBe(false);
    expect(isRetryableOutcome('network_error') && isRetryableOutcome('timeout')).toBe(true);
    expect(isRetryableOutcome('refused')).toBe(false);
  });

  it('spreads the default schedule over about a day', () => {
    const defaults = WebhookSettingsSchema.parse({});
    const total = defaults.retry_delays_ms.reduce((a, b) => a + b, 0);
    expect(total / 3_600_000).toBeGreaterThan(20);
    expect(total / 3_600_000).toBeLessThan(28);
    // Each delay at least as long as the one before: exponential in spirit.
    for (let i = 1; i < defaults.retry_delays_ms.length; i++) expect(defaults.retry_delays_ms[i]).toBeGreaterThanOrEqual(defaults.retry_delays_ms[i - 1]!);
  });

  it('uses the n-th delay, spread by the jitter either way', () => {
    const settings = { retry_delays_ms: [1000, 4000], jitter: 0.25, retry_after_max_ms: 60_000 };
    expect(retryDelayMs(settings, 1, undefined, () => 0.5)).toBe(1000);
    expect(retryDelayMs(settings, 2, undefined, () => 0)).toBe(3000);
    expect(retryDelayMs(settings, 2, undefined, () => 1)).toBe(5000);
    // Past the schedule (a manual retry that fails again) the last delay repeats.
    expect(retryDelayMs(settings, 7, undefined, () => 0.5)).toBe(4000);
  });

  it('never retries sooner than Retry-After, which is capped', () => {
    const settings = { retry_delays_ms: [1000], jitter: 0, retry_after_max_ms: 30_000 };
    expect(retryDelayMs(settings, 1, 5000)).toBe(5000);
    expect(retryDelayMs(settings, 1, 200)).toBe(1000);
    expect(retryDelayMs(settings, 1, 3_600_000)).toBe(30_000);
  });
});
