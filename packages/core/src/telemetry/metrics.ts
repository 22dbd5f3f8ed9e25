// Every metric predictq exports, in one file. Label values come from bounded sets only
// (configured routes and models, fixed outcome names), never from ids, tenants or paths.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const PREDICTION_STATUSES = ['succeeded', 'failed', 'degraded', 'requeued'] as const;
export const CACHE_LEVELS = ['memory', 'redis', 'coalesced'] as const;
export const TOKEN_TYPES = ['prompt', 'completion', 'cached', 'reasoning'] as const;
export const LM_OUTCOMES = ['ok', 'timeout', 'rate_limited', 'upstream_error', 'client_error', 'connection_error', 'cancelled'] as const;
export const HTTP_ROUTES = ['predictions', 'prediction', 'chat', 'models', 'admin', 'health', 'metrics', 'other'] as const;

export interface Metrics {
  registry: Registry;
  predictions: Counter<'model' | 'status'>;
  predictionDuration: Histogram<'model' | 'cached'>;
  cacheHits: Counter<'level'>;
  cacheMisses: Counter<string>;
  activeRequests: Gauge<string>;
  breakerOpen: Gauge<'route'>;
  tokensUsed: Counter<'model' | 'type'>;
  lmCallDuration: Histogram<'route' | 'outcome'>;
  httpRequests: Counter<'route' | 'method' | 'status_class'>;
}

export function createMetrics(options: { prefix?: string; defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    predictions: new Counter({
      name: 'dspy_predictions_total',
      help: 'Predictions finished, by model and status',
      labelNames: ['model', 'status'],
      registers,
    }),
    predictionDuration: new Histogram({
      name: 'dspy_prediction_duration_seconds',
      help: 'Time from job start to result, by model and whether it was served from cache',
      labelNames: ['model', 'cached'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    cacheHits: new Counter({
      name: 'dspy_cache_hits_total',
      help: 'Cache hits by level (memory, redis, coalesced)',
      labelNames: ['level'],
      registers,
    }),
    cacheMisses: new Counter({ name: 'dspy_cache_misses_total', help: 'Cache misses', registers }),
    activeRequests: new Gauge({ name: 'dspy_active_requests', help: 'Predictions being processed now', registers }),
    breakerOpen: new Gauge({
      name: 'dspy_circuit_breaker_open',
      help: '1 while the route circuit breaker is open',
      labelNames: ['route'],
      registers,
    }),
    tokensUsed: new Counter({
      name: 'dspy_tokens_used_total',
      help: 'Tokens used by LM calls, by model and type',
      labelNames: ['model', 'type'],
      registers,
    }),
    lmCallDuration: new Histogram({
      name: 'dspy_lm_call_duration_seconds',
      help: 'LM call latency by route and outcome',
      labelNames: ['route', 'outcome'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers,
    }),
    httpRequests: new Counter({
      name: 'dspy_http_requests_total',
      help: 'HTTP requests to the producer, by route template, method and status class',
      labelNames: ['route', 'method', 'status_class'],
      registers,
    }),
  };
}
