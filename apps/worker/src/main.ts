// Starts a worker process: config from the environment, metrics server, graceful SIGTERM.
import { createLogger, createMetrics, createQueueConnection, loadConfigOrExit, startTracing } from '@predictq/core';
import { createWorker } from './create-worker.js';
import { createMetricsServer } from './metrics-server.js';

const config = loadConfigOrExit('worker');
// Off unless OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_TRACES_EXPORTER is set.
const tracing = await startTracing({ serviceName: 'predictq-worker' });
const logger = createLogger({ name: 'worker', level: config.log_level });
if (tracing.ignored.length) logger.warn({ ignored: tracing.ignored }, 'OTEL_TRACES_EXPORTER names exporters predictq lacks (it has otlp, console, none)');
const metrics = createMetrics();
const connection = createQueueConnection(config.redis_url);
const worker = createWorker({ config, connection, logger, metrics, secrets: process.env, telemetry: tracing.bullmq });
let closing = false;
const server = createMetricsServer(metrics, () => !closing, () => !closing && connection.status === 'ready');
server.on('error', (error: NodeJS.ErrnoException) => {
  // A port that cannot be had is a start-up error naming the setting, like a bad value.
  const problem = error.code === 'EADDRINUSE' ? 'is already in use' : `cannot be listened on (${error.code ?? error.message})`;
  console.error(`predictq worker: WORKER_METRICS_PORT ${config.worker_metrics_port} ${problem}; set WORKER_METRICS_PORT to a free port (0 picks one)`);
  void shutdown('listen error', 2);
});
server.listen(config.worker_metrics_port, () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.worker_metrics_port;
  logger.info({ port, routes: config.routes.map((r) => r.name) }, `worker ready; metrics on http://127.0.0.1:${port}/metrics`);
});

async function shutdown(signal: string, exitCode = 0) {
  if (closing) return;
  closing = true;
  logger.info({ signal }, 'shutting down');
  await worker.close(config.shutdown_timeout_ms);
  server.close();
  await connection.quit().catch(() => connection.disconnect());
  await tracing.shutdown().catch(() => {});
  process.exit(exitCode);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
