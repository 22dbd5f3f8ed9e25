// A worker's small HTTP server: /health (liveness), /ready (readiness: not closing and Redis
// connected) and /metrics (Prometheus).
import { createServer, type Server } from 'node:http';
import type { Metrics } from '@predictq/core';

export function createMetricsServer(metrics: Metrics, isHealthy: () => boolean, isReady: () => boolean = isHealthy): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/metrics') {
      metrics.registry
        .metrics()
        .then((text) => {
          res.writeHead(200, { 'content-type': metrics.registry.contentType });
          res.end(text);
        })
        .catch(() => {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { code: 'internal_error', message: 'metrics unavailable' } }));
        });
      return;
    }
    if (req.method === 'GET' && path === '/health') {
      const ok = isHealthy();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: ok ? 'ok' : 'closing' }));
      return;
    }
    if (req.method === 'GET' && path === '/ready') {
      const ok = isReady();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify(ok ? { status: 'ready' } : { error: { code: 'service_unavailable', message: 'not ready: closing, or Redis is not connected' } }));
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { code: 'not_found', message: `no route ${req.method} ${path}` } }));
  });
}
