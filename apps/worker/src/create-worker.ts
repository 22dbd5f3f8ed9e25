// createWorker(deps): one BullMQ worker per configured route, all running the same pipeline.
// Never reads process.env and never listens: main.ts does that.
import { Queue, Worker, type Job, type Telemetry } from 'bullmq';
import {
  BATCH_QUEUE,
  BatchStore,
  CallbackGuard,
  CancelChannel,
  WEBHOOK_QUEUE,
  WebhookEmitter,
  WebhookSender,
  WebhookSigner,
  CostTracker,
  ExperimentStats,
  ExperimentStore,
  LmClient,
  LmGuard,
  PredictionPipeline,
  RelayWriter,
  createCache,
  createFastConnection,
  duplicateConnection,
  predictionQueueName,
  queuePrefix,
  relayKey,
  routeApiKey,
  systemClock,
  traceJobs,
  watchPredictionQueues,
  type Clock,
  type Config,
  type LmCaller,
  type Logger,
  type Metrics,
  type RouteConfig,
  type TieredCache,
  type RedisConnection,
} from '@predictq/core';
import { createBatchRecorder } from './batch-recorder.js';
import { observeCache } from './cache-observers.js';
import { createJobProcessor } from './job-processor.js';
import { createOutcomeNotifier } from './outcome-notifier.js';
import { createWebhookProcessor, webhookBackoff } from './webhook-processor.js';
import { observeCost } from './cost-observers.js';
import { observeExperiments } from './experiment-observers.js';
import { shadowSkipReason } from './shadow-gate.js';
import { observePipeline } from './observers.js';
import { observeResilience } from './resilience-observers.js';

export interface WorkerDeps {
  config: Config;
  /** BullMQ connection (maxRetriesPerRequest: null). Workers duplicate it for blocking calls. */
  connection: RedisConnection;
  logger: Logger;
  metrics: Metrics;
  /** Where route API keys are read from (the variable names come from config). */
  secrets: Record<string, string | undefined>;
  clock?: Clock;
  lmFor?: (route: RouteConfig) => LmCaller;
  /** BullMQ's own spans (bullmq-otel), given only when tracing is on. */
  telemetry?: Telemetry | undefined;
  /** Fail-fast connection for budgets and the usage ledger; opened from config.redis_url when absent. */
  costConnection?: RedisConnection;
  /** The shared cache; built from config (its own fail-fast connection) when absent, none when null. */
  cache?: TieredCache | null;
}

export interface PredictqWorker {
  /** One per route: the prediction workers. */
  workers: Worker[];
  /** Delivers the `webhooks` queue, with its own concurrency, so receivers never hold up predictions. */
  webhookWorker: Worker;
  /** Creates webhook events (the notify step uses it; so can any other part of this process). */
  webhooks: WebhookEmitter;
  pipeline: PredictionPipeline;
  /** Stops taking jobs, lets active ones finish until the deadline, then closes. */
  close(timeoutMs?: number): Promise<void>;
}

export function createWorker(deps: WorkerDeps): PredictqWorker {
  const { config, logger, metrics } = deps;
  const clients = new Map<string, LmCaller>();
  const lmFor =
    deps.lmFor ??
    ((route: RouteConfig) => {
      let client = clients.get(route.name);
      if (!client) {
        client = new LmClient({
          baseURL: route.base_url,
          apiKey: routeApiKey(route, deps.secrets),
          model: route.model,
          timeoutMs: route.timeout_ms,
        });
        clients.set(route.name, client);
      }
      return client;
    });
  const clock = deps.clock ?? systemClock;
  // Cancellations and breaker changes reach this process on one subscriber connection.
  const subscriber = duplicateConnection(deps.connection);
  subscriber.on('error', (err) => logger.warn({ err: { message: err.message } }, 'subscriber connection error'));
  // Rate limits, breakers and call timeouts, shared through Redis.
  const guard = new LmGuard({ config, redis: deps.connection, subscriber });
  observeResilience(guard.events, metrics, logger, config.routes.map((r) => r.name));
  // Prices, budget reservations and the usage ledger.
  const costConnection = deps.costConnection ?? createFastConnection(config.redis_url);
  if (!deps.costConnection) costConnection.on('error', () => {});
  const cost = new CostTracker({
    config,
    redis: costConnection,
    clock,
    onError: (err, what) => logger.warn({ err: { message: (err as Error).message } }, what),
  });
  // L1 + L2 + cross-worker single-flight; closed with the worker.
  const cache = deps.cache === undefined ? createCache({ config, secrets: deps.secrets, logger }) : (deps.cache ?? undefined);
  if (cache) metrics.watchCacheL1(() => cache.l1Size);
  // Streamed chat completions are relayed to the producer holding the client's connection.
  const relayFor = (jobId: string) => new RelayWriter(deps.connection, relayKey(config.key_prefix, jobId));
  const pipeline = new PredictionPipeline({ config, lmFor, clock, guard, cost, relayFor, ...(cache ? { cache } : {}) });
  observePipeline(pipeline.events, metrics, logger, config);
  observeCost(pipeline.events, metrics, logger, cost);
  observeCache(pipeline.events, metrics);
  // Batch items record their results in their batch; the last asks a producer to finalize it.
  const batchQueue = new Queue(BATCH_QUEUE, { connection: deps.connection, prefix: queuePrefix(config.key_prefix) });
  const batches = new BatchStore({ redis: deps.connection, keyPrefix: config.key_prefix, retentionS: config.batches.retention_days * 86_400, now: () => clock.now() });
  // Webhooks: events are created here (final outcomes) and delivered by their own worker below.
  const webhooks = new WebhookEmitter({ config, connection: deps.connection, clock, metrics, telemetry: deps.telemetry });
  const notify = createOutcomeNotifier({ emitter: webhooks, clock, logger });
  // Experiment statistics, guardrails and shadow comparisons, in Redis for every process.
  const experimentStore = new ExperimentStore({ redis: costConnection, config, clock });
  const experimentStats = new ExperimentStats({ redis: costConnection, keyPrefix: config.key_prefix, ttlDays: config.experiment_store.stats_ttl_days });
  observeExperiments(pipeline.events, { store: experimentStore, stats: experimentStats, metrics, logger, clock });
  const traced = traceJobs(createJobProcessor(pipeline, createBatchRecorder({ batches, queue: batchQueue, clock }), notify));
  // BullMQ hands the cancellation signal only to a processor that declares three parameters.
  // The gauge is kept here, not from worker events: a requeued job (DelayedError) emits none.
  const processor = async (job: Job, token?: string, signal?: AbortSignal) => {
    const shadow = (job.data as { shadow?: { experiment: string } } | undefined)?.shadow;
    if (shadow) {
      const skip = await shadowSkipReason({ store: experimentStore, stats: experimentStats, clock }, job.data).catch(() => undefined);
      if (skip) {
        metrics.shadowPredictions.inc({ experiment: metrics.experimentLabel.of(shadow.experiment), status: 'skipped' });
        return { skipped: skip };
      }
    }
    metrics.activeRequests.inc();
    try {
      return await traced(job, token, signal);
    } finally {
      metrics.activeRequests.dec();
    }
  };
  // Queue depth and backlog age on this worker's /metrics (read at scrape time).
  const stopWatchingQueues = watchPredictionQueues(metrics.queues, config, deps.connection);

  const workers = config.routes.map((route) => {
    const worker = new Worker(predictionQueueName(route.name), processor, {
      connection: deps.connection,
      prefix: queuePrefix(config.key_prefix),
      concurrency: route.concurrency,
      lockDuration: config.queue.lock_duration_ms,
      stalledInterval: config.queue.stalled_interval_ms,
      // Finished-job retention is set on each job by the producer; these are the fallback.
      removeOnComplete: { age: config.queue.keep_completed_s, count: config.queue.keep_completed_count },
      removeOnFail: { age: config.queue.keep_failed_s, count: config.queue.keep_failed_count },
      ...(deps.telemetry ? { telemetry: deps.telemetry } : {}),
    });
    worker.on('failed', (job, err) => {
      if (!job) logger.error({ err: { message: err.message }, route: route.name }, 'job failed outside a job');
    });
    worker.on('error', (err) => logger.error({ err: { message: err.message }, route: route.name }, 'worker error'));
    return worker;
  });

  const callbackGuard = new CallbackGuard(config.webhooks);
  const webhookWorker = new Worker(
    WEBHOOK_QUEUE,
    createWebhookProcessor({
      settings: config.webhooks,
      signer: new WebhookSigner(config.webhooks, deps.secrets),
      sender: new WebhookSender({ guard: callbackGuard, timeoutMs: config.webhooks.timeout_ms, clock }),
      clock,
      metrics,
      logger,
    }),
    {
      connection: deps.connection,
      prefix: queuePrefix(config.key_prefix),
      concurrency: config.webhooks.concurrency,
      lockDuration: config.queue.lock_duration_ms,
      stalledInterval: config.queue.stalled_interval_ms,
      // A delivery whose worker died is run again (twice), not dead-lettered at the first crash.
      maxStalledCount: 2,
      settings: { backoffStrategy: webhookBackoff },
      ...(deps.telemetry ? { telemetry: deps.telemetry } : {}),
    },
  );
  webhookWorker.on('error', (err) => logger.error({ err: { message: err.message } }, 'webhook worker error'));
  const unwatchWebhooks = metrics.queues.watch([webhooks.queue]);

  // When a probe closes a breaker, the jobs that were waiting for it run now
  // (promoting every delayed job: one delayed for backoff may run a little early).
  guard.events.on('breaker:state', ({ route, state, source }) => {
    if (state !== 'closed' || source !== 'probe') return;
    const queue = new Queue(predictionQueueName(route), { connection: deps.connection, prefix: queuePrefix(config.key_prefix) });
    queue
      .promoteJobs()
      .catch((err: Error) => logger.warn({ err: { message: err.message }, route }, 'could not promote waiting jobs'))
      .finally(() => void queue.close());
  });

  // DELETE /v1/predictions/:id of a running job: the worker running it aborts it.
  void new CancelChannel(config.key_prefix)
    .subscribe(subscriber, (jobId) => {
      for (const worker of workers) {
        if (worker.cancelJob(jobId, 'cancelled by the client')) logger.info({ job_id: jobId }, 'cancelling a running prediction');
      }
    })
    .catch((err: Error) => logger.error({ err: { message: err.message } }, 'cannot subscribe to cancellations'));

  const all = [...workers, webhookWorker];
  return {
    workers,
    webhookWorker,
    webhooks,
    pipeline,
    async close(timeoutMs = config.shutdown_timeout_ms) {
      await stopWatchingQueues();
      unwatchWebhooks();
      const graceful = Promise.all(all.map((w) => w.close()));
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
        timer.unref();
      });
      const outcome = await Promise.race([graceful.then(() => 'done' as const), deadline]);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        // Active jobs keep their locks until they expire; another worker then picks them up.
        logger.warn({ timeout_ms: timeoutMs }, 'shutdown deadline passed; forcing workers closed');
        await Promise.all(all.map((w) => w.close(true)));
      }
      await webhooks.close();
      callbackGuard.close();
      guard.close();
      cost.close();
      await batchQueue.close();
      subscriber.disconnect();
      if (!deps.costConnection) costConnection.disconnect();
      if (cache && deps.cache === undefined) await cache.close();
    },
  };
}
