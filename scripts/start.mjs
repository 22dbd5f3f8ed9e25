#!/usr/bin/env node
// `npm start`: the whole predictq stack on one machine. Reads the configuration the apps will
// read; uses its Redis (or Redis Cluster) when it answers, else starts a private redis-server;
// starts the LM simulator when a route points at it; then the producer, and the workers under
// the supervisor (apps/worker/src/supervisor): a fixed PREDICTQ_WORKERS, or autoscaling
// (PREDICTQ_WORKERS=auto, or `autoscale` in the config). A worker that dies is restarted with
// backoff (up to a crash-loop limit); the essential processes (the private redis-server, the
// simulator, the producer) exiting stops the stack. SIGTERM or Ctrl-C drains everything: the
// workers and the producer get shutdown_timeout_ms to finish their jobs, then the simulator and
// Redis they needed until then are stopped. A second Ctrl-C kills everything at once.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const env = { ...process.env };
/** The producer, simulator and private redis-server: any of them exiting stops the stack. */
const essentials = [];
const say = (msg) => console.log(`[predictq] ${msg}`);
const shout = (msg) => console.error(`[predictq] ${msg}`);
/** Time a child has beyond its own shutdown deadline before it is killed. */
const STOP_MARGIN_MS = 5000;
/** As the apps' own start scripts: without a cap, V8 lets garbage grow toward a quarter of the machine's memory. */
const HEAP_CAP = '--max-old-space-size=1024';

/** A bad setting found before anything started: the message, exit 2 (as the apps do). */
function refuse(msg) {
  shout(msg);
  process.exit(2);
}

function fail(msg) {
  shout(msg);
  void stopAll(1);
}

async function load(path, what) {
  try {
    return await import(path);
  } catch (err) {
    if (err?.code === 'ERR_MODULE_NOT_FOUND') refuse(`${what} is not built: run \`npm run build\` first (\`npm start\` does)`);
    throw err;
  }
}

async function redisAnswers(url) {
  // createFastConnection makes a Cluster client when the URL lists several seeds.
  const client = createFastConnection(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.ping();
    return true;
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

const isRunning = (child) => child.exitCode === null && child.signalCode === null;

function startEssential(name, command, args, extraEnv = {}) {
  if (stopping) return undefined;
  const child = spawn(command, args, { cwd: root, env: { ...env, ...extraEnv }, stdio: ['ignore', 'inherit', 'inherit'] });
  say(`started ${name} (pid ${child.pid})`);
  child.on('error', (err) => {
    if (!stopping) fail(`${name} could not run: ${err.message}; stopping the stack`);
  });
  child.on('exit', (code, signal) => {
    if (!stopping) fail(`${name} exited (${signal ?? code}); stopping the stack`);
  });
  essentials.push(child);
  return child;
}

/** SIGTERM, then SIGKILL after `deadlineMs`; resolves when it has exited. */
function stopChild(child, deadlineMs) {
  if (!child || !isRunning(child)) return Promise.resolve();
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), deadlineMs);
  return exited.finally(() => clearTimeout(timer));
}

async function waitFor(url, what, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !stopping) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  if (!stopping) fail(`${what} did not come up at ${url}`);
}

let stopping = false;
let supervisor;
let producer;
let supervisorRedis;
let shutdownMs = 25_000;

async function stopAll(code = 0) {
  if (stopping) return;
  stopping = true;
  const deadline = shutdownMs + STOP_MARGIN_MS;
  say(`stopping: the producer and the workers finish their jobs (up to ${shutdownMs} ms)`);
  // The simulator and Redis stay up until the workers have drained: their jobs need them.
  await Promise.all([supervisor?.stop(deadline), stopChild(producer, deadline)]);
  supervisorRedis?.disconnect();
  await Promise.all(essentials.filter((c) => c !== producer).reverse().map((c) => stopChild(c, STOP_MARGIN_MS)));
  say('stopped');
  process.exit(code);
}

let signals = 0;
function onSignal() {
  signals += 1;
  if (signals === 1) return void stopAll(0);
  // Asked twice: do not wait for anyone.
  shout('stopping now: killing every process');
  for (const child of essentials) if (isRunning(child)) child.kill('SIGKILL');
  for (const w of supervisor?.status().workers ?? []) if (w.pid) process.kill(w.pid, 'SIGKILL');
  process.exit(1);
}
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

// 0. The configuration, exactly as the apps will load it, so a bad one stops us first.
const core = await load('../packages/core/dist/index.js', 'packages/core');
const { ConfigError, SIM_MODEL, RouteLoads, SupervisorStatusStore, createFastConnection, loadConfig, parseRedisAddress, predictionQueueName, queuePrefix } =
  core;
const { Supervisor, WorkerPool, workerPlan } = await load('../apps/worker/dist/supervisor/index.js', 'apps/worker');
const { Queue } = await import('bullmq');
let config;
let plan;
try {
  config = loadConfig(env);
  plan = workerPlan(config, env.PREDICTQ_WORKERS);
} catch (err) {
  if (err instanceof ConfigError) refuse(err.message);
  throw err;
}
shutdownMs = config.shutdown_timeout_ms;

// 1. Redis
const redisUrl = config.redis_url;
if (await redisAnswers(redisUrl)) {
  say(`using Redis at ${redisUrl}`);
} else {
  if (parseRedisAddress(redisUrl).cluster) refuse(`the Redis Cluster at ${redisUrl} does not answer: start it, or set REDIS_URL to one Redis`);
  if (spawnSync('redis-server', ['--version']).error) {
    refuse(`Redis at ${redisUrl} does not answer and redis-server is not installed: install it (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis) or set REDIS_URL`);
  }
  const port = new URL(redisUrl).port || '6379';
  const dir = join(root, '.predictq', 'redis');
  mkdirSync(dir, { recursive: true });
  startEssential('redis-server', 'redis-server', ['--port', port, '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--save', '']);
  const deadline = Date.now() + 10_000;
  while (!stopping && !(await redisAnswers(`redis://127.0.0.1:${port}`))) {
    if (Date.now() > deadline) fail('the private redis-server did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  env.REDIS_URL = `redis://127.0.0.1:${port}`;
  say(`Redis at ${redisUrl} did not answer: started a private redis-server on port ${port} (data in .predictq/redis)`);
}

// 2. The LM: the simulator runs when any route points at its URL, whichever way that came
// about (no LM configured at all, a config file without routes, or a route naming it).
const simPort = config.lm_sim_port;
const simUrl = `http://127.0.0.1:${simPort}/v1`;
const isSimUrl = (baseUrl) => {
  try {
    const url = new URL(baseUrl);
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    return url.protocol === 'http:' && ['127.0.0.1', 'localhost'].includes(url.hostname) && port === simPort && url.pathname.replace(/\/+$/, '') === '/v1';
  } catch {
    return false;
  }
};
const simRoutes = config.routes.filter((r) => isSimUrl(r.base_url));
for (const route of config.routes) say(`LM route ${route.name} (${route.model}): ${route.base_url}${simRoutes.includes(route) ? ' (the LM simulator)' : ''}`);
if (simRoutes.length > 0) {
  startEssential('lm-sim', process.execPath, ['apps/lm-sim/dist/main.js'], { LM_SIM_PORT: String(simPort) });
  await waitFor(`${simUrl}/models`, 'the LM simulator');
  const fallback = simRoutes.length === 1 && config.routes.length === 1 && simRoutes[0].name === 'default' && simRoutes[0].model === SIM_MODEL && !env.OPENAI_BASE_URL;
  const why = fallback
    ? `no LM is configured (OPENAI_BASE_URL is not set${env.PREDICTQ_CONFIG ? ` and ${env.PREDICTQ_CONFIG} has no routes` : ''})`
    : `route${simRoutes.length > 1 ? 's' : ''} ${simRoutes.map((r) => r.name).join(', ')} point${simRoutes.length > 1 ? '' : 's'} at it`;
  say(`${why}: started the LM simulator on ${simUrl}`);
}

// 3. Admin key for bull-board and /admin
if (!env.PREDICTQ_ADMIN_KEY) {
  env.PREDICTQ_ADMIN_KEY = randomBytes(12).toString('hex');
  say(`PREDICTQ_ADMIN_KEY is not set: generated ${env.PREDICTQ_ADMIN_KEY} for this run`);
}

// Webhook secret for callback_url deliveries (only when the default variable is the one in use).
if (!env.PREDICTQ_WEBHOOK_SECRET && config.webhooks.secret_env === 'PREDICTQ_WEBHOOK_SECRET') {
  env.PREDICTQ_WEBHOOK_SECRET = `whsec_${randomBytes(32).toString('base64')}`;
  say(`PREDICTQ_WEBHOOK_SECRET is not set: generated ${env.PREDICTQ_WEBHOOK_SECRET} for this run (receivers verify callbacks with it)`);
}

// 4. The producer, and the workers under the supervisor
const port = config.port;
producer = startEssential('producer', process.execPath, [HEAP_CAP, 'apps/producer/dist/main.js'], { PORT: String(port) });
const metricsBase = config.worker_metrics_port;
const maxWorkers = plan.mode === 'auto' ? plan.settings.max : plan.workers;
/** A worker process for slot `slot`: its metrics port is the base port + slot - 1. */
function spawnWorker(slot) {
  const metricsPort = metricsBase === 0 ? 0 : metricsBase + slot - 1;
  const child = spawn(process.execPath, [HEAP_CAP, 'apps/worker/dist/main.js'], {
    cwd: root,
    env: { ...env, WORKER_METRICS_PORT: String(metricsPort) },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  let listener;
  let done = false;
  const exited = (code, signal) => {
    if (done) return;
    done = true;
    listener?.(code, signal);
  };
  child.once('exit', exited);
  child.once('error', (err) => {
    shout(`worker ${slot} could not run: ${err.message}`);
    exited(null, null);
  });
  return { pid: child.pid, kill: (signal) => isRunning(child) && child.kill(signal), onExit: (l) => (listener = l) };
}
if (!stopping) {
  supervisorRedis = createFastConnection(env.REDIS_URL ?? redisUrl, { enableOfflineQueue: true });
  supervisorRedis.on('error', () => {});
  const queues = config.routes.map((r) => new Queue(predictionQueueName(r.name), { connection: supervisorRedis, prefix: queuePrefix(config.key_prefix) }));
  for (const q of queues) q.on('error', () => {});
  const loads = new RouteLoads({ config, redis: supervisorRedis, queues });
  const status = new SupervisorStatusStore(supervisorRedis, config.key_prefix);
  const log = (level, message) => (level === 'info' ? say(message) : shout(message));
  const pool = new WorkerPool({ spawn: spawnWorker, log, drainTimeoutMs: config.shutdown_timeout_ms + STOP_MARGIN_MS });
  supervisor = new Supervisor({ pool, plan, log, readLoads: () => loads.read(), publish: (s, ttlMs) => status.write(s, ttlMs) });
  if (plan.mode === 'auto') {
    const a = plan.settings;
    say(`workers: autoscaling between ${a.min} and ${a.max} (every ${a.interval_ms} ms; scale-down after ${a.scale_down_delay_ms} ms)`);
  }
  supervisor.start();
}
await waitFor(`http://127.0.0.1:${port}/ready`, 'the producer');

if (!stopping) {
  const ports = metricsBase === 0 ? 'any free port' : `port ${metricsBase}${maxWorkers > 1 ? `..${metricsBase + maxWorkers - 1}` : ''}`;
  say('ready:');
  say(`  API          http://127.0.0.1:${port}/v1/predictions`);
  say(`  bull-board   http://127.0.0.1:${port}/admin/queues  (any user name, password: the admin key)`);
  say(`  metrics      http://127.0.0.1:${port}/metrics, workers on ${ports}`);
  say(`  workers      ${plan.mode === 'auto' ? `autoscaled ${plan.settings.min}..${plan.settings.max}` : plan.workers}; GET /admin/stats shows them (section autoscale)`);
  say(`  try:  curl -s localhost:${port}/v1/predictions -H 'Prefer: wait=10' -d '{"signature":"question -> answer","inputs":{"question":"What is the capital of France?"}}'`);
}
