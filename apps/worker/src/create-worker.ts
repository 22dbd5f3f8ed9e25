// createWorker(deps): one BullMQ worker per configured route, all running the same pipeline.
// Never reads process.env and never listens: main.ts does that.
import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  LmClient,
  PredictionPipeline,
  predictionQueueName,
  queuePrefix,
  routeApiKey,
  systemClock,
  type Clock,
  type Config,
  type LmCaller,
  type Logger,
  type Metrics,
  type RouteConfig,
} from '@predictq/core';
import { createJobProcessor } from './job-processor.js';
import { observePipeline } from './observers.js';

export interface WorkerDeps {
  config: Config;
  /** BullMQ connection (maxRetriesPerRequest: null). Workers duplicate it for blocking calls. */
  connection: Redis;
  logger: Logger;
  metrics: Metrics;
  /** Where route API keys are read from (the variable names come from config). */
  secrets: Record<string, string | undefined>;
  clock?: Clock;
  lmFor?: (route: RouteConfig) => LmCaller;
}

export interface PredictqWorker {
  workers: Worker[];
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
  const pipeline = new PredictionPipeline({ config, lmFor, clock: deps.clock ?? systemClock });
  observePipeline(pipeline.events, metrics, logger);
  const processor = createJobProcessor(pipeline, { maxRequeues: config.queue.max_requeues });

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
    });
    worker.on('active', () => metrics.activeRequests.inc());
    worker.on('completed', () => metrics.activeRequests.dec());
    worker.on('failed', (job, err) => {
      if (job) metrics.activeRequests.dec();
      if (!job) logger.error({ err, route: route.name }, 'job failed outside a job');
    });
    worker.on('error', (err) => logger.error({ err: { message: err.message }, route: route.name }, 'worker error'));
    return worker;
  });

  return {
    workers,
    pipeline,
    async close(timeoutMs = config.shutdown_timeout_ms) {
      const graceful = Promise.all(workers.map((w) => w.close()));
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
        await Promise.all(workers.map((w) => w.close(true)));
      }
    },
  };
}
