// Starts the producer: config from the environment, listen, graceful SIGTERM.
import { createServer } from 'node:http';
import { createLogger, createMetrics, createProducerConnection, loadConfigOrExit, startTracing } from '@predictq/core';
import { createApp } from './create-app.js';

const STARTUP_REDIS_WAIT_MS = 5000;

const config = loadConfigOrExit('producer');
// Off unless OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_TRACES_EXPORTER is set.
const tracing = await startTracing({ serviceName: 'predictq-producer' });
const logger = createLogger({ name: 'producer', level: config.log_level });
if (tracing.ignored.length) logger.warn({ ignored: tracing.ignored }, 'OTEL_TRACES_EXPORTER names exporters predictq lacks (it has otlp, console, none)');
const connection = createProducerConnection(config.redis_url);
// One line per outage, not one per reconnect attempt.
let redisDown = false;
connection.on('error', (err) => {
  if (redisDown) return;
  redisDown = true;
  logger.warn({ err: { message: err.message } }, 'redis is unreachable: requests get 503 service_unavailable until it is back');
});
connection.on('ready', () => {
  if (!redisDown) return;
  redisDown = false;
  logger.info('redis is back');
});
// Requests fail fast while Redis is away, so the first ones should not race the first connect:
// listen once connected, or after a short wait when Redis is down at start-up (then answer 503).
await new Promise<void>((resolve) => {
  const timer = setTimeout(resolve, STARTUP_REDIS_WAIT_MS).unref();
  connection.once('ready', () => (clearTimeout(timer), resolve()));
});
const producer = createApp({ config, connection, logger, metrics: createMetrics(), secrets: process.env, telemetry: tracing.bullmq });
const server = createServer(producer.listener);
server.once('error', listenFailed);
server.listen(config.port, config.host, () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  logger.info({ port }, `producer listening on http://127.0.0.1:${port} (API /v1, bull-board /admin/queues)`);
});

/** A port that cannot be had is a start-up error naming the setting, like a bad value. */
function listenFailed(error: NodeJS.ErrnoException) {
  const problem = error.code === 'EADDRINUSE' ? 'is already in use' : `cannot be listened on (${error.code ?? error.message})`;
  console.error(`predictq producer: PORT ${config.port} ${problem}; set PORT to a free port (0 picks one)`);
  void shutdown('listen error', 2);
}

let closing = false;
async function shutdown(signal: string, exitCode = 0) {
  if (closing) return;
  closing = true;
  logger.info({ signal }, 'shutting down');
  const timer = setTimeout(() => process.exit(1), config.shutdown_timeout_ms).unref();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await producer.close();
  await connection.quit().catch(() => connection.disconnect());
  await tracing.shutdown().catch(() => {});
  clearTimeout(timer);
  process.exit(exitCode);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
