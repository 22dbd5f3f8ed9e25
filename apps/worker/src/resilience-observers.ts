// Breaker state as metrics and log lines, hung off the resilience events.
import type { Logger, Metrics, ResilienceEvents } from '@predictq/core';

export function observeResilience(events: ResilienceEvents, metrics: Metrics, logger: Logger, routes: readonly string[]): void {
  for (const route of routes) metrics.breakerOpen.set({ route }, 0);
  events.on('breaker:state', ({ route, state, source }) => {
    metrics.breakerOpen.set({ route }, state === 'closed' ? 0 : 1);
    const line = { route, state, source };
    if (state === 'open') logger.warn(line, 'circuit breaker open');
    else logger.info(line, `circuit breaker ${state === 'closed' ? 'closed' : 'half-open'}`);
  });
}
