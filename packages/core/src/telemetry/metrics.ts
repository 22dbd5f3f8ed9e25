// Every metric predictq exports, in one file. Label values come from bounded sets only
// (configured routes and models, fixed outcome names), never from ids, tenants or paths.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { BoundedLabel } from './bounded-label.js';
import { QueueWatch } from './queue-watch.js';
import { ATTEMPT_OUTCOMES } from '../webhooks/delivery-policy.js';
import { WEBHOOK_EVENT_TYPES } from '../webhooks/event-types.js';
import { ScalingWatch } from './scaling-watch.js';

export const PREDICTION_STATUSES = ['succeeded', 'failed', 'degraded', 'requeued', 'retried'] as const;
export const CACHE_LEVELS = ['memory', 'redis', 'coalesced'] as const;
export const TOKEN_TYPES = ['prompt', 'completion', 'cached', 'reasoning'] as const;
export const LM_OUTCOMES = ['ok', 'timeout', 'rate_limited', 'upstream_error', 'client_error', 'connection_error', 'cancelled'] as const;
/** Distinct variant label values one process reports before the rest count as "other". */
export const VARIANT_LABEL_LIMIT = 32;
export const HTTP_ROUTES = ['predictions', 'prediction', 'webhooks', 'chat', 'models', 'files', 'batches', 'usage', 'admin', 'health', 'metrics', 'other'] as const;
export const WEBHOOK_DELIVERY_RESULTS = ['delivered', 'dead_letter'] as const;
export const WEBHOOK_DEAD_LETTER_REASONS = ['exhausted', 'not_retryable'] as const;
export { ATTEMPT_OUTCOMES as WEBHOOK_ATTEMPT_OUTCOMES, WEBHOOK_EVENT_TYPES };
/** Distinct experiment label values one process reports (experiment_store.max_experiments defaults to it). */
export const EXPERIMENT_LABEL_LIMIT = 32;

export interface Metrics {
  registry: Registry;
  predictions: Counter<'model' | 'status'>;
  predictionDuration: Histogram<'model' | 'cached'>;
  cacheHits: Counter<'level'>;
  cacheMisses: Counter<string>;
  /** This worker's L1: entries and bytes held, read at scrape time from what watchCacheL1 gave. */
  cacheL1Entries: Gauge<string>;
  cacheL1Bytes: Gauge<string>;
  watchCacheL1(size: () => { entries: number; bytes: number }): void;
  activeRequests: Gauge<string>;
  breakerOpen: Gauge<'route'>;
  /** Jobs sent back to wait (breaker open, rate window, LM 429) without spending an attempt. */
  lmWaits: Counter<'route' | 'reason'>;
  tokensUsed: Counter<'model' | 'type'>;
  /** Spend and cache savings by model; budgets labelled "global" or "tenant:<name>" (configured budgets only). */
  costUsd: Counter<'model'>;
  costSavedUsd: Counter<'model'>;
  tokensSaved: Counter<'model' | 'type'>;
  costUnpriced: Counter<'model'>;
  budgetRemaining: Gauge<'budget' | 'window'>;
  budgetSoftLimit: Counter<'budget' | 'window'>;
  budgetRefusals: Counter<'budget' | 'window' | 'outcome'>;
  lmCallDuration: Histogram<'route' | 'outcome'>;
  /** ChatAdapter replies that did not parse and were asked again as JSON (DSPy's JSONAdapter fallback). */
  adapterFallbacks: Counter<'route'>;
  httpRequests: Counter<'route' | 'method' | 'status_class'>;
  /** The queues whose depth and backlog age this process reports (read on each scrape). */
  queues: QueueWatch;
  queueJobs: Gauge<'queue' | 'state'>;
  queueOldestWaiting: Gauge<'queue'>;
  /** The autoscaling signal and the local supervisor's state (reported where a source is attached). */
  scaling: ScalingWatch;
  queueBacklog: Gauge<'route'>;
  workersRecommended: Gauge<'route'>;
  workersDesired: Gauge<'mode'>;
  workersRunning: Gauge<'mode'>;
  /** Experiment variants (label capped by `variantLabel`, see VARIANT_LABEL_LIMIT); experiments by `experimentLabel`. */
  variantLabel: BoundedLabel;
  experimentLabel: BoundedLabel;
  variantPredictions: Counter<'experiment' | 'variant' | 'status'>;
  variantDuration: Histogram<'experiment' | 'variant'>;
  variantCostUsd: Counter<'experiment' | 'variant'>;
  /** Producer: variants handed out, and requests a paused variant's subjects sent to the control. */
  experimentAssignments: Counter<'experiment' | 'variant' | 'outcome'>;
  guardrailPauses: Counter<'experiment' | 'variant' | 'reason'>;
  shadowPredictions: Counter<'experiment' | 'status'>;
  shadowCostUsd: Counter<'experiment'>;
  shadowComparisons: Counter<'experiment' | 'match'>;
  /** Webhook events created, by type (a repeat of the same event counts again; it is delivered once). */
  webhookEvents: Counter<'type'>;
  /** Deliveries finished: delivered, or dead-lettered (given up). */
  webhookDeliveries: Counter<'result'>;
  webhookDeadLetters: Counter<'reason'>;
  webhookAttempts: Counter<'outcome'>;
  webhookAttemptDuration: Histogram<'outcome'>;
}

export function createMetrics(options: { prefix?: string; defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  let l1Size: (() => { entries: number; bytes: number }) | undefined;
  const queues = new QueueWatch();
  const scaling = new ScalingWatch();
  return {
    registry,
    queues,
    scaling,
    queueBacklog: new Gauge({
      name: 'dspy_queue_backlog',
      help: 'Prediction jobs ready to run (waiting + prioritized) per route: what autoscaling reads',
      labelNames: ['route'],
      registers,
      collect() {
        return scaling.collectRoutes(this, 'backlog');
      },
    }),
    workersRecommended: new Gauge({
      name: 'dspy_workers_recommended',
      help: "Worker processes each route's running and ready jobs call for, capped by what its rate limits and breaker can use (scale on the max)",
      labelNames: ['route'],
      registers,
      collect() {
        return scaling.collectRoutes(this, 'workers');
      },
    }),
    workersDesired: new Gauge({
      name: 'dspy_workers_desired',
      help: 'Worker processes the local supervisor (npm start) wants, by mode (auto, fixed)',
      labelNames: ['mode'],
      registers,
      collect() {
        return scaling.collectSupervisor(this, 'desired');
      },
    }),
    workersRunning: new Gauge({
      name: 'dspy_workers_running',
      help: 'Worker processes the local supervisor (npm start) runs and that take jobs, by mode',
      labelNames: ['mode'],
      registers,
      collect() {
        return scaling.collectSupervisor(this, 'running');
      },
    }),
    queueJobs: new Gauge({
      name: 'dspy_queue_jobs',
      help: 'Jobs in each prediction queue, by state (read from BullMQ at scrape time)',
      labelNames: ['queue', 'state'],
      registers,
      collect() {
        return queues.collectCounts(this);
      },
    }),
    variantLabel: new BoundedLabel(VARIANT_LABEL_LIMIT),
    experimentLabel: new BoundedLabel(EXPERIMENT_LABEL_LIMIT),
    variantPredictions: new Counter({
      name: 'dspy_variant_predictions_total',
      help: 'Predictions of experiment variants, by experiment, variant and status (only jobs with a variant)',
      labelNames: ['experiment', 'variant', 'status'],
      registers,
    }),
    variantDuration: new Histogram({
      name: 'dspy_variant_prediction_duration_seconds',
      help: 'Prediction time of experiment variants, by experiment and variant',
      labelNames: ['experiment', 'variant'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    variantCostUsd: new Counter({
      name: 'dspy_variant_cost_usd_total',
      help: 'USD spent on predictions of experiment variants, by experiment and variant',
      labelNames: ['experiment', 'variant'],
      registers,
    }),
    experimentAssignments: new Counter({
      name: 'dspy_experiment_assignments_total',
      help: 'Requests assigned a variant at the producer; outcome "paused": the subject\'s variant is paused, the control served it',
      labelNames: ['experiment', 'variant', 'outcome'],
      registers,
    }),
    guardrailPauses: new Counter({
      name: 'dspy_experiment_guardrail_pauses_total',
      help: 'Variants a guardrail paused (counted once, by the process that paused it), by reason (error_rate, cost)',
      labelNames: ['experiment', 'variant', 'reason'],
      registers,
    }),
    shadowPredictions: new Counter({
      name: 'dspy_shadow_predictions_total',
      help: 'Shadow runs finished, by experiment and status (succeeded, failed, skipped: the daily cap was spent)',
      labelNames: ['experiment', 'status'],
      registers,
    }),
    shadowCostUsd: new Counter({
      name: 'dspy_shadow_cost_usd_total',
      help: 'USD spent on shadow runs, by experiment',
      labelNames: ['experiment'],
      registers,
    }),
    shadowComparisons: new Counter({
      name: 'dspy_shadow_comparisons_total',
      help: 'Shadow outputs compared with the control, by match (exact, normalized: only after normalising text, none)',
      labelNames: ['experiment', 'match'],
      registers,
    }),
    queueOldestWaiting: new Gauge({
      name: 'dspy_queue_oldest_waiting_seconds',
      help: 'Age of the oldest job waiting to run in each prediction queue (0 when none waits)',
      labelNames: ['queue'],
      registers,
      collect() {
        return queues.collectOldestWaiting(this);
      },
    }),
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
    cacheL1Entries: new Gauge({
      name: 'dspy_cache_l1_entries',
      help: "Entries in this worker's in-memory cache (bounded by cache.l1.max_entries)",
      registers,
      collect() {
        if (l1Size) this.set(l1Size().entries);
      },
    }),
    cacheL1Bytes: new Gauge({
      name: 'dspy_cache_l1_bytes',
      help: "Bytes held by this worker's in-memory cache (bounded by cache.l1.max_bytes)",
      registers,
      collect() {
        if (l1Size) this.set(l1Size().bytes);
      },
    }),
    watchCacheL1(size) {
      l1Size = size;
    },
    activeRequests: new Gauge({ name: 'dspy_active_requests', help: 'Predictions being processed now', registers }),
    breakerOpen: new Gauge({
      name: 'dspy_circuit_breaker_open',
      help: '1 while the route circuit breaker is open',
      labelNames: ['route'],
      registers,
    }),
    lmWaits: new Counter({
      name: 'dspy_lm_waits_total',
      help: 'Jobs requeued without spending an attempt, by route and reason (circuit_open, rate_window, lm_429, budget, redis)',
      labelNames: ['route', 'reason'],
      registers,
    }),
    tokensUsed: new Counter({
      name: 'dspy_tokens_used_total',
      help: 'Tokens used by LM calls, by model and type',
      labelNames: ['model', 'type'],
      registers,
    }),
    costUsd: new Counter({ name: 'dspy_cost_usd_total', help: 'USD spent on LM calls, by model', labelNames: ['model'], registers }),
    costSavedUsd: new Counter({
      name: 'dspy_cost_saved_usd_total',
      help: 'USD that cache hits saved (the cached call priced at the current price), by model',
      labelNames: ['model'],
      registers,
    }),
    tokensSaved: new Counter({
      name: 'dspy_tokens_saved_total',
      help: 'Tokens that cache hits saved, by model and type (prompt, completion)',
      labelNames: ['model', 'type'],
      registers,
    }),
    costUnpriced: new Counter({
      name: 'dspy_cost_unpriced_calls_total',
      help: 'LM calls charged 0 because the model has no configured price',
      labelNames: ['model'],
      registers,
    }),
    budgetRemaining: new Gauge({
      name: 'dspy_budget_remaining_usd',
      help: 'USD left in the current window of each configured budget (global or tenant:<name>), as last settled',
      labelNames: ['budget', 'window'],
      registers,
    }),
    budgetSoftLimit: new Counter({
      name: 'dspy_budget_soft_limit_total',
      help: 'Times a budget window crossed its soft limit (once per window)',
      labelNames: ['budget', 'window'],
      registers,
    }),
    budgetRefusals: new Counter({
      name: 'dspy_budget_refusals_total',
      help: 'Reservations refused: the window is spent (exhausted) or held by in-flight calls (held)',
      labelNames: ['budget', 'window', 'outcome'],
      registers,
    }),
    lmCallDuration: new Histogram({
      name: 'dspy_lm_call_duration_seconds',
      help: 'LM call latency by route and outcome',
      labelNames: ['route', 'outcome'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers,
    }),
    webhookEvents: new Counter({
      name: 'dspy_webhook_events_total',
      help: 'Webhook events created, by type (prediction.succeeded, batch.completed, ...)',
      labelNames: ['type'],
      registers,
    }),
    webhookDeliveries: new Counter({
      name: 'dspy_webhook_deliveries_total',
      help: 'Webhook deliveries finished, by result (delivered, dead_letter)',
      labelNames: ['result'],
      registers,
    }),
    webhookDeadLetters: new Counter({
      name: 'dspy_webhook_dead_letters_total',
      help: 'Webhook deliveries given up, by reason (exhausted: every retry failed; not_retryable: a 4xx, redirect or refused address)',
      labelNames: ['reason'],
      registers,
    }),
    webhookAttempts: new Counter({
      name: 'dspy_webhook_attempts_total',
      help: 'Webhook delivery attempts, by outcome',
      labelNames: ['outcome'],
      registers,
    }),
    webhookAttemptDuration: new Histogram({
      name: 'dspy_webhook_attempt_duration_seconds',
      help: 'Webhook delivery attempt latency (to the response headers, or the failure), by outcome',
      labelNames: ['outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    adapterFallbacks: new Counter({
      name: 'dspy_adapter_fallbacks_total',
      help: 'ChatAdapter replies that did not parse and were asked again in JSONAdapter format, by route',
      labelNames: ['route'],
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
