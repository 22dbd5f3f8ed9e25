// POST /v1/predictions served straight from node's HTTP server, every other route by express.
// The hot route does what express's middleware chain would do for it (request id, trace span,
// count and log line, API key, ingest limit, JSON body, error shape) through the very functions
// that chain uses; it skips only express's own per-request set-up and routing, which cost more
// than the rest of a cache hit put together.
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { traceHttpRequests, type IngestLimiter, type Logger, type Metrics } from '@predictq/core';
import type { PredictionCall, PredictionReply } from './create-prediction.js';
import { toPredictqError, writeError, writeJson } from './http-errors.js';
import { readJsonBody } from './json-body.js';
import { assignRequestId, observeRequest, pathOf, routeLabel } from './request-basics.js';

export interface PredictionLaneDeps {
  logger: Logger;
  metrics: Metrics;
  tenantOf(req: IncomingMessage): string;
  ingest: IngestLimiter;
  create(call: PredictionCall): Promise<PredictionReply>;
  bodyLimitBytes: number;
  /** Whether the producer's Redis connection is up (errors while it is not are Redis's). */
  redisReady(): boolean;
}

/** Whether the lane serves a request: POST /v1/predictions (a trailing slash or a query as express allows). */
export function isPredictionPost(req: IncomingMessage): boolean {
  if (req.method !== 'POST') return false;
  const path = pathOf(req.url);
  return path === '/v1/predictions' || path === '/v1/predictions/';
}

/** Aborts when the client goes away before its response is written. */
function disconnectSignal(res: ServerResponse): AbortSignal {
  const controller = new AbortController();
  // Made only when a wait begins: the client may have gone already.
  if (res.closed && !res.writableFinished) controller.abort();
  else
    res.once('close', () => {
      if (!res.writableFinished) controller.abort();
    });
  return controller.signal;
}

export function predictionLane(deps: PredictionLaneDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const traced = traceHttpRequests<IncomingMessage>((req) => routeLabel(pathOf(req.url)));

  async function serve(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
    try {
      const tenant = deps.tenantOf(req);
      if (deps.ingest.enabled) await deps.ingest.take(tenant);
      const body = await readJsonBody(req, { limitBytes: deps.bodyLimitBytes });
      const header = (name: string) => {
        const value = req.headers[name];
        return Array.isArray(value) ? value.join(', ') : value;
      };
      const reply = await deps.create({
        tenant,
        requestId,
        idempotencyKey: header('idempotency-key'),
        prefer: header('prefer'),
        body,
        disconnected: () => disconnectSignal(res),
      });
      writeJson(res, reply.status, reply.body, reply.headers);
    } catch (err) {
      writeError(res, toPredictqError(err, req, deps.logger, deps.redisReady));
    }
  }

  return (req, res) => {
    const requestId = assignRequestId(req, res);
    observeRequest(deps, req, res, requestId);
    traced(req, res, () => void serve(req, res, requestId));
  };
}

/** The producer's request listener: the lane for its route, express for the rest. */
export function producerListener(app: RequestListener, lane: (req: IncomingMessage, res: ServerResponse) => void): RequestListener {
  return (req, res) => (isPredictionPost(req) ? lane(req, res) : app(req, res));
}
