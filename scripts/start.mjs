#!/usr/bin/env node
// `npm start`: the whole predictq stack on one machine. Reads the configuration the apps will
// read; uses its Redis when it answers, else starts a private redis-server; starts the LM
// simulator when a route points at it; then the producer and PREDICTQ_WORKERS workers.
// A worker that exits leaves the rest serving; the essential processes (the private
// redis-server, the simulator, the producer) exiting stops the stack. Ctrl-C stops everything.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const env = { ...process.env };
const children = [];
const say = (msg) => console.log(`[predictq] ${msg}`);
/** As the apps' own start scripts: without a cap, V8 lets garbage grow toward a quarter of the machine's memory. */
const HEAP_CAP = '--max-old-space-size=1024';

/** A bad setting found before anything started: the message, exit 2 (as the apps do). */
function refuse(msg) {
  console.error(`[predictq] ${msg}`);
  process.exit(2);
}

function fail(msg) {
  console.error(`[predictq] ${msg}`);
  stopAll(1);
}

async function loadCore() {
  try {
    return await import('../packages/core/dist/index.js');
  } catch (err) {
    if (err?.code === 'ERR_MODULE_NOT_FOUND') refuse('packages/core is not built: run `npm run build` first (`npm start` does)');
    throw err;
  }
}

async function redisAnswers(url) {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
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

const workerProcesses = [];

function start(name, command, args, { env: extraEnv = {}, essential = true } = {}) {
  if (stopping) return undefined;
  const child = spawn(command, args, { cwd: root, env: { ...env, ...extraEnv }, stdio: ['ignore', 'inherit', 'inherit'] });
  say(`started ${name} (pid ${child.pid})`);
  child.on('error', (err) => {
    if (!stopping) fail(`${name} could not run: ${err.message}; stopping the stack`);
  });
  child.on('exit', (code, signal) => {
    if (stopping) return;
    const how = signal ?? code;
    if (essential) return fail(`${name} exited (${how}); stopping the stack`);
    // No restarts here: a lost worker is reported, and the queue keeps its jobs for the others.
    const left = workerProcesses.filter(isRunning).length;
    if (left > 0) say(`${name} exited (${how}); the producer and the other workers keep running`);
    else console.error(`[predictq] ${name} exited (${how}); NO WORKER IS LEFT: the producer keeps accepting predictions, but they stay queued until a worker runs (restart \`npm start\` to get workers back)`);
  });
  children.push(child);
  return child;
}

const isRunning = (child) => child.exitCode === null && child.signalCode === null;

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
function stopAll(code = 0) {
  if (stopping) return;
  stopping = true;
  for (const child of [...children].reverse()) if (isRunning(child)) child.kill('SIGTERM');
  setTimeout(() => process.exit(code), 3000).unref();
  Promise.all(children.map((c) => (isRunning(c) ? new Promise((r) => c.once('exit', r)) : null))).then(() => process.exit(code));
}
process.on('SIGINT', () => stopAll(0));
process.on('SIGTERM', () => stopAll(0));

// 0. The configuration, exactly as the apps will load it, so a bad one stops us first.
const { ConfigError, SIM_MODEL, loadConfig } = await loadCore();
let config;
try {
  config = loadConfig(env);
} catch (err) {
  if (err instanceof ConfigError) refuse(err.message);
  throw err;
}
const workers = Number(env.PREDICTQ_WORKERS || '1');
if (!Number.isInteger(workers) || workers < 1 || workers > 64) refuse('PREDICTQ_WORKERS must be a whole number from 1 to 64');

// 1. Redis
const redisUrl = config.redis_url;
if (await redisAnswers(redisUrl)) {
  say(`using Redis at ${redisUrl}`);
} else {
  if (spawnSync('redis-server', ['--version']).error) {
    refuse(`Redis at ${redisUrl} does not answer and redis-server is not installed: install it (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis) or set REDIS_URL`);
  }
  const port = new URL(redisUrl).port || '6379';
  const dir = join(root, '.predictq', 'redis');
  mkdirSync(dir, { recursive: true });
  start('redis-server', 'redis-server', ['--port', port, '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--save', '']);
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
  start('lm-sim', process.execPath, ['apps/lm-sim/dist/main.js'], { env: { LM_SIM_PORT: String(simPort) } });
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

// 4. Producer and workers
const port = config.port;
start('producer', process.execPath, [HEAP_CAP, 'apps/producer/dist/main.js'], { env: { PORT: String(port) } });
const metricsBase = config.worker_metrics_port;
for (let i = 0; i < workers; i++) {
  const metricsPort = metricsBase === 0 ? 0 : metricsBase + i;
  const worker = start(`worker ${i + 1}`, process.execPath, [HEAP_CAP, 'apps/worker/dist/main.js'], { env: { WORKER_METRICS_PORT: String(metricsPort) }, essential: false });
  if (worker) workerProcesses.push(worker);
}
await waitFor(`http://127.0.0.1:${port}/ready`, 'the producer');

if (!stopping) {
  say('ready:');
  say(`  API          http://127.0.0.1:${port}/v1/predictions`);
  say(`  bull-board   http://127.0.0.1:${port}/admin/queues  (any user name, password: the admin key)`);
  say(`  metrics      http://127.0.0.1:${port}/metrics, workers on port ${metricsBase}${workers > 1 ? `..${metricsBase + workers - 1}` : ''}`);
  say(`  try:  curl -s localhost:${port}/v1/predictions -H 'Prefer: wait=10' -d '{"signature":"question -> answer","inputs":{"question":"What is the capital of France?"}}'`);
}
