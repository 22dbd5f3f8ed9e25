// What every HTTP request gets, on express's routes and the prediction lane alike: a request
// id, a count in dspy_http_requests_total, and one access log line when it finishes.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HTTP_ROUTES, type Logger, type Metrics } from '@predictq/core';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const METHODS = new Set(['GET', 'POST', 'DELETE', 'PUT']);
/** Probes and scrapes would drown the log. */
const QUIET_PATHS = new Set(['/health', '/metrics']);

/** The caller's X-Request-Id when it is a sane token, else a new one; echoed on the response. */
export function assignRequestId(req: IncomingMessage, res: ServerResponse): string {
  const given = req.headers['x-request-id'];
  const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
  req.headers['x-request-id'] = id;
  res.setHeader('x-request-id', id);
  return id;
}

export function pathOf(url: string | undefined): string {
  const path = url ?? '/';
  const query = path.indexOf('?');
  return query < 0 ? path : path.slice(0, query);
}

/** The metrics label of a path: a fixed set of values, never the path itself. */
export function routeLabel(path: string): (typeof HTTP_ROUTES)[number] {
  if (path === '/v1/predictions') return 'predictions';
  if (path.startsWith('/v1/predictions/')) return 'prediction';
  if (path.startsWith('/v1/webhooks/')) return 'webhooks';
  if (path.startsWith('/v1/chat/')) return 'chat';
  if (path === '/v1/models' || path.startsWith('/v1/models/')) return 'models';
  if (path === '/v1/files' || path.startsWith('/v1/files/')) return 'files';
  if (path === '/v1/batches' || path.startsWith('/v1/batches/')) return 'batches';
  if (path === '/v1/usage') return 'usage';
  if (path.startsWith('/admin')) return 'admin';
  if (path === '/health' || path === '/ready') return 'health';
  if (path === '/metrics') return 'metrics';
  return 'other';
}

/**
 * Counts the request and logs one line when its response is finished. The line carries the
 * method, url, status, time taken and request id, and no header: what an operator reads, with
 * no secret for redaction to find.
 */
export function observeRequest(deps: { logger: Logger; metrics: Metrics }, req: IncomingMessage, res: ServerResponse, requestId: string): void {
  const started = performance.now();
  // Read now: express rewrites req.url inside mounted routers.
  const url = req.url;
  const path = pathOf(url);
  res.once('finish', () => {
    deps.metrics.httpRequests.inc({
      route: routeLabel(path),
      method: METHODS.has(req.method ?? '') ? req.method! : 'OTHER',
      status_class: `${Math.floor(res.statusCode / 100)}xx`,
    });
    if (QUIET_PATHS.has(path)) return;
    const line = {
      request_id: requestId,
      req: { method: req.method, url },
      res: { statusCode: res.statusCode },
      responseTime: Math.round(performance.now() - started),
    };
    if (res.statusCode >= 500) deps.logger.error(line, 'request errored');
    else deps.logger.info(line, 'request completed');
  });
}
