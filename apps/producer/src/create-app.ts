// createApp(deps): the producer's express app. It never listens and never reads process.env.
import { randomUUID } from 'node:crypto';
import express, { type Express, type RequestHandler } from 'express';
import { pinoHttp } from 'pino-http';
import type { Redis } from 'ioredis';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { HTTP_ROUTES, PredictqError, type Config, type Logger, type Metrics } from '@predictq/core';
import { adminAuth, tenantAuth } from './auth.js';
import { Cancellations } from './cancellations.js';
import { errorHandler } from './http-errors.js';
import { PredictionQueues } from './prediction-queues.js';
import { adminRoutes, type StatsSource } from './routes/admin.js';
import { predictionRoutes } from './routes/predictions.js';
import { systemRoutes } from './routes/system.js';

export interface ProducerDeps {
  config: Config;
  /** BullMQ connection (maxRetriesPerRequest: null). */
  connection: Redis;
  logger: Logger;
  metrics: Metrics;
  /** Where tenant and admin keys are read from (the variable names come from config). */
  secrets: Record<string, string | undefined>;
  now?: () => number;
  /** Created from config and connection when not given. */
  queues?: PredictionQueues;
}

export interface ProducerApp {
  app: Express;
  queues: PredictionQueues;
  close(): Promise<void>;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

function requestId(): RequestHandler {
  return (req, res, next) => {
    const given = req.get('x-request-id');
    const id = given && REQUEST_ID.test(given) ? given : randomUUID();
    req.headers['x-request-id'] = id;
    res.setHeader('x-request-id', id);
    next();
  };
}

function routeLabel(path: string): (typeof HTTP_ROUTES)[number] {
  if (path === '/v1/predictions') return 'predictions';
  if (path.startsWith('/v1/predictions/')) return 'prediction';
  if (path.startsWith('/v1/chat/')) return 'chat';
  if (path === '/v1/models') return 'models';
  if (path.startsWith('/admin')) return 'admin';
  if (path === '/health' || path === '/ready') return 'health';
  if (path === '/metrics') return 'metrics';
  return 'other';
}

function countRequests(metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    res.on('finish', () => {
      metrics.httpRequests.inc({
        route: routeLabel(req.path),
        method: ['GET', 'POST', 'DELETE', 'PUT'].includes(req.method) ? req.method : 'OTHER',
        status_class: `${Math.floor(res.statusCode / 100)}xx`,
      });
    });
    next();
  };
}

export function createApp(deps: ProducerDeps): ProducerApp {
  const { config, connection, logger, metrics } = deps;
  const queues = deps.queues ?? new PredictionQueues(config, connection);
  const cancellations = new Cancellations(connection, config.key_prefix, config.queue.keep_failed_s);
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);

  app.use(requestId());
  app.use(
    pinoHttp({
      logger,
      genReqId: (req) => String(req.headers['x-request-id']),
      customProps: (req) => ({ request_id: req.headers['x-request-id'] }),
      autoLogging: { ignore: (req) => req.url === '/health' || req.url === '/metrics' },
    }),
  );
  app.use(countRequests(metrics));
  app.use(systemRoutes({ config, redis: connection, metrics }));

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

  // Bodies are read as JSON whatever their Content-Type (curl -d sends a form type).
  const json = express.json({ limit: config.http.body_limit_bytes, type: () => true });
  app.use('/v1', tenantAuth(config, deps.secrets));
  app.use('/v1', json);
  app.use(predictionRoutes({ config, queues, cancellations, now: deps.now ?? Date.now }));
  app.use(express.json({ limit: '64kb', type: () => true }));
  app.use(adminRoutes({ auth: admin, stats }));

  app.use((req, _res, next) => next(new PredictqError('not_found', `no route ${req.method} ${req.path}`)));
  app.use(errorHandler(logger));

  return {
    app,
    queues,
    async close() {
      await queues.close();
    },
  };
}
