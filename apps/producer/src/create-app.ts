// createApp(deps): the producer's express app. It never listens and never reads process.env.
import type { RequestListener } from 'node:http';
import express, { type RequestHandler } from 'express';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Telemetry } from 'bullmq';
import {
  CallbackGuard,
  CancelChannel,
  DeliveryHistory,
  WebhookEmitter,
  WebhookSigner,
  CostTracker,
  CacheSavings,
  type PredictionJobData,
  BatchStore,
  FileStore,
  IngestLimiter,
  PredictqError,
  RelayReader,
  batchEvent,
  ScalingSignal,
  countCostEvents,
  systemClock,
  type Clock,
  createFastConnection,
  microsToUsd,
  ProgramStore,
  ExperimentStats,
  ExperimentStore,
  traceHttpRequests,
  type Config,
  type Logger,
  type Metrics,
  type TieredCache,
  createCache,
  duplicateConnection,
  type RedisConnection,
} from '@predictq/core';
import { CacheFastPath } from './cache-fast-path.js';
import { createCallbackCheck } from './callback-check.js';
import { adminCacheRoutes } from './routes/admin-cache.js';
import { adminAuth, tenantAuth, tenantResolver } from './auth.js';
import { predictionCreator } from './create-prediction.js';
import type { PredictionObject } from './prediction-object.js';
import { jsonBody } from './json-body.js';
import { predictionLane, producerListener } from './prediction-lane.js';
import { assignRequestId, observeRequest, routeLabel } from './request-basics.js';
import { Cancellations } from './cancellations.js';
import { errorHandler } from './http-errors.js';
import { ingestLimit } from './ingest-limit.js';
import { PredictionQueues } from './prediction-queues.js';
import { adminRoutes, type StatsSource } from './routes/admin.js';
import { adminUsageRoutes, tenantUsageRoutes } from './routes/admin-usage.js';
import { createBudgetCheck } from './budget-check.js';
import { adminBreakerRoutes } from './routes/admin-breakers.js';
import { adminProgramRoutes } from './routes/admin-programs.js';
import { adminExperimentRoutes } from './routes/admin-experiments.js';
import { ExperimentRouting } from './experiment-routing.js';
import { predictionRoutes } from './routes/predictions.js';
import { BatchRunner } from './batch-runner.js';
import { batchRoutes } from './routes/batches.js';
import { chatRoutes } from './routes/chat-completions.js';
import { fileRoutes } from './routes/files.js';
import { modelRoutes } from './routes/models.js';
import { systemRoutes } from './routes/system.js';
import { webhookRoutes } from './routes/webhooks.js';

export interface ProducerDeps {
  config: Config;
  /** A fail-fast connection (createProducerConnection): requests get 503 at once while Redis is down. */
  connection: RedisConnection;
  logger: Logger;
  metrics: Metrics;
  /** Where tenant and admin keys are read from (the variable names come from config). */
  secrets: Record<string, string | undefined>;
  clock?: Clock;
  /** Created from config and connection when not given. */
  queues?: PredictionQueues;
  /** BullMQ's own spans (bullmq-otel), given only when tracing is on. */
  telemetry?: Telemetry | undefined;
  /** Fail-fast connection for budgets and the usage ledger; opened from config.redis_url when absent. */
  costConnection?: RedisConnection;
  /** The shared cache (fast path, invalidation, stats); built from config when absent, none when null. */
  cache?: TieredCache | null;
}

export interface ProducerApp {
  /** The request listener to serve (http.createServer): the prediction lane, then express. */
  listener: RequestListener;
  queues: PredictionQueues;
  /** Creates webhook events from this process (cancellations, fast-path answers; batches too). */
  webhooks: WebhookEmitter;
  close(): Promise<void>;
}

export function createApp(deps: ProducerDeps): ProducerApp {
  const { config, connection, logger, metrics } = deps;
  const clock = deps.clock ?? systemClock;
  const queues = deps.queues ?? new PredictionQueues(config, connection, { telemetry: deps.telemetry });
  // Queue depth and backlog age on this producer's /metrics too (read at scrape time).
  const unwatchQueues = metrics.queues.watch(queues.all);
  const cancellations = new Cancellations(connection, config.key_prefix, config.queue.keep_failed_s);
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);

  // The same request id, count and log line as the prediction lane's (request-basics.ts).
  app.use((req, res, next) => {
    observeRequest({ logger, metrics }, req, res, assignRequestId(req, res));
    next();
  });
  app.use(traceHttpRequests<express.Request>((req) => routeLabel(req.path)));
  app.use(systemRoutes({ redis: connection, metrics }));

  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath('/admin/queues');
  createBullBoard({ queues: queues.all.map((q) => new BullMQAdapter(q)), serverAdapter });
  const admin = adminAuth(config, deps.secrets);
  app.use('/admin/queues', admin, serverAdapter.getRouter() as RequestHandler);

  // Sections of GET /admin/stats; each feature adds its own.
  const stats: Record<string, StatsSource> = {
    queues: async () =>
      Object.fromEntries(
        await Promise.all(
          queues.all.map(async (q) => [q.name, await q.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed')] as const),
        ),
      ),
  };

  // The autoscaling signal (dspy_queue_backlog, dspy_workers_recommended: what KEDA scales on)
  // and the `autoscale` stats section, with what the local supervisor reports.
  const scaling = new ScalingSignal({ config, redis: connection, queues: queues.all, clock });
  const unwatchScaling = metrics.scaling.watch(scaling);
  stats.autoscale = () => scaling.stats();

  // Budget pre-check, GET /admin/usage and the `budgets` stats section.
  const costConnection = deps.costConnection ?? createFastConnection(config.redis_url);
  if (!deps.costConnection) costConnection.on('error', () => {});
  const cost = new CostTracker({ config, redis: costConnection, clock });
  countCostEvents(cost.events, metrics);
  const budgetCheck = createBudgetCheck({ cost, logger });
  // What fast-path answers saved, summed and written to the ledger every 200 ms.
  const savings = new CacheSavings(cost);
  const recordCacheAnswer = (data: PredictionJobData, answered: PredictionObject) => {
    if (answered.usage) savings.add({ tenant: data.tenant, model: answered.model, route: data.route, variant: answered.variant, usage: answered.usage });
  };
  stats.budgets = async () =>
    (await cost.budgets.snapshot()).map((b) => ({
      budget: b.budget,
      window: b.window,
      limit_usd: microsToUsd(b.limitMicros),
      spent_usd: microsToUsd(b.spentMicros),
      reserved_usd: microsToUsd(b.reservedMicros),
      remaining_usd: microsToUsd(Math.max(0, b.limitMicros - b.spentMicros)),
      resets_at: new Date(b.resetsAt).toISOString(),
    }));

  // Programs and their versions, shared with every producer through Redis.
  const programs = new ProgramStore({ redis: connection, config, clock });
  // Uploaded files and batches (Redis, shared by every replica), and the relays of streamed answers.
  const storesOn = (redis: RedisConnection) => ({
    files: new FileStore({
      redis,
      keyPrefix: config.key_prefix,
      retentionS: config.files.retention_days * 86_400,
      maxBytes: config.files.max_bytes,
      now: () => clock.now(),
    }),
    batches: new BatchStore({ redis, keyPrefix: config.key_prefix, retentionS: config.batches.retention_days * 86_400, now: () => clock.now() }),
  });
  const { files, batches } = storesOn(connection);
  const relay = new RelayReader(connection);
  // Every producer runs batches' bookkeeping (a BullMQ worker), on a connection of its own that
  // waits out outages as workers' do.
  const batchConnection = duplicateConnection(connection, { maxRetriesPerRequest: null, enableOfflineQueue: true, autoResendUnfulfilledCommands: true, commandTimeout: undefined });
  batchConnection.on('error', () => {});
  // Its events are added on its own connection too: an outage delays the event, never drops it.
  const batchEvents = new WebhookEmitter({ config, connection: batchConnection, clock, metrics });
  const runner = new BatchRunner({
    config, connection: batchConnection, ...storesOn(batchConnection), queues, cost, programs, logger, clock,
    onFinished: async (tenant, batch) => {
      const event = batchEvent(tenant, batch);
      if (event) await batchEvents.emit(event);
    },
  });

  // The fast path (L2 hits without a job), POST /admin/cache/invalidate, the `cache` stats section.
  const cache = deps.cache === undefined ? createCache({ config, secrets: deps.secrets, logger }) : (deps.cache ?? undefined);
  const cacheAdmin = adminCacheRoutes({ auth: admin, config, cache });
  stats.cache = cacheAdmin.stats;

  // Bodies are read as JSON whatever their Content-Type (curl -d sends a form type); any JSON
  // value parses (strict: false), so `null` or `42` get a message about the body's shape.
  app.use(adminProgramRoutes({ auth: admin, config, programs, clock }));
  // Experiments: variants assigned here, before enqueueing; statistics shared with the workers.
  const experiments = new ExperimentRouting({
    config,
    store: new ExperimentStore({ redis: connection, config, clock }),
    stats: new ExperimentStats({ redis: connection, keyPrefix: config.key_prefix, ttlDays: config.experiment_store.stats_ttl_days }),
    metrics,
    logger,
    clock,
  });
  const feedbackTtlS = Math.max(config.queue.keep_completed_s, config.queue.keep_failed_s);
  const feedbackOnce = async (id: string, score: number) =>
    (await connection.set(`${config.key_prefix}:feedback:${id}`, String(score), 'EX', feedbackTtlS, 'NX')) === 'OK';

  // It is mounted only where JSON is expected (a file upload is multipart).
  const json = jsonBody({ limitBytes: config.http.body_limit_bytes });
  const tenantOf = tenantResolver(config, deps.secrets);
  app.use('/v1', tenantAuth(config, deps.secrets));
  app.use(modelRoutes(config));
  const ingestLimiter = new IngestLimiter(config, connection);
  const ingest = ingestLimit(ingestLimiter);
  const cancelChannel = new CancelChannel(config.key_prefix);
  const cancelRunning = (jobId: string) => cancelChannel.publish(connection, jobId);
  // Webhooks: the SSRF guard and secret check at submission, events, the delivery history.
  const webhooks = new WebhookEmitter({ config, connection, clock, metrics, telemetry: deps.telemetry });
  const callbackGuard = new CallbackGuard(config.webhooks);
  const checkCallback = createCallbackCheck({ guard: callbackGuard, signer: new WebhookSigner(config.webhooks, deps.secrets) });
  const unwatchWebhooks = metrics.queues.watch([webhooks.queue]);
  app.use(webhookRoutes({ history: new DeliveryHistory(webhooks.queue, config) }));
  app.use(fileRoutes({ files }));
  app.use('/v1/predictions', json);
  const predictionDeps = {
    webhooks, checkCallback, logger, programs, experiments, feedbackOnce,
    config, queues, cancellations, clock, budgetCheck, recordCacheAnswer, cancelRunning,
    cacheFastPath: cache ? new CacheFastPath(cache, config, metrics) : undefined,
  };
  app.use(predictionRoutes(predictionDeps));
  // POST /v1/predictions: the prediction lane, in front of express (prediction-lane.ts).
  const lane = predictionLane({
    logger,
    metrics,
    tenantOf,
    ingest: ingestLimiter,
    create: predictionCreator(predictionDeps),
    bodyLimitBytes: config.http.body_limit_bytes,
    redisReady: () => connection.status === 'ready',
  });
  app.post('/v1/chat/completions', ingest, json);
  app.use(chatRoutes({ config, queues, relay, cost, savings, cache, metrics, clock, cancelRunning }));
  app.use('/v1/batches', json);
  app.use(batchRoutes({ batches, files, runner, checkCallback }));
  app.use(tenantUsageRoutes({ ledger: cost.ledger, clock }));
  app.use(jsonBody({ limitBytes: 64 * 1024, strict: true }));
  // POST /admin/breakers/:route/reset and the `breakers` stats section.
  const breakers = adminBreakerRoutes({ auth: admin, config, redis: connection, queues });
  stats.breakers = breakers.stats;
  app.use(breakers.router);
  app.use(adminUsageRoutes({ auth: admin, ledger: cost.ledger, clock }));
  app.use(adminExperimentRoutes({ auth: admin, config, experiments, programs, logger, clock }));
  app.use(cacheAdmin.router);
  app.use(adminRoutes({ auth: admin, stats }));

  app.use((req, _res, next) => next(new PredictqError('not_found', `no route ${req.method} ${req.path}`)));
  app.use(errorHandler(logger, () => connection.status === 'ready'));

  return {
    listener: producerListener(app as unknown as RequestListener, lane),
    queues,
    webhooks,
    async close() {
      unwatchQueues();
      unwatchWebhooks();
      relay.close();
      await runner.close();
      await batchEvents.close();
      batchConnection.disconnect();
      unwatchScaling();
      await queues.close();
      await webhooks.close();
      callbackGuard.close();
      await savings.close();
      if (!deps.costConnection) costConnection.disconnect();
      if (cache && deps.cache === undefined) await cache.close();
    },
  };
}
