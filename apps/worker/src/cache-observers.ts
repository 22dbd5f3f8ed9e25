// Cache metrics (dspy_cache_hits_total{level}, dspy_cache_misses_total), hung off the pipeline's
// 'cache:lookup' events. Bypassed and refreshed requests are neither hits nor misses.
import type { Metrics, PipelineEvents } from '@predictq/core';

export function observeCache(events: PipelineEvents, metrics: Metrics): void {
  events.on('cache:lookup', (e) => {
    if (e.outcome === 'hit' && e.level) metrics.cacheHits.inc({ level: e.level });
    else if (e.outcome === 'miss') metrics.cacheMisses.inc();
  });
}
