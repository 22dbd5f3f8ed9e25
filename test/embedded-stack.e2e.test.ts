// `npm start` (scripts/start.mjs, running the built apps) as a real process: a worker that dies
// leaves the producer and the other workers serving, the simulator runs whenever a route
// points at it, and start-up errors name the setting instead of stopping the stack.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest';
import { request, until } from './utils/http.js';
import { freePortRun, holdPort, type HeldPort } from './utils/ports.js';
import { startNode, type AppProcess } from './utils/processes.js';
import { freePort } from './utils/redis-server.js';

interface EmbeddedStack {
  proc: AppProcess;
  url: string;
  env: Record<string, string>;
  /** The pid start.mjs printed for a child, e.g. `worker 2`. */
  pid(name: string): number;
  stop(): Promise<void>;
}

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Kills a child start.mjs left behind, only if the pid still runs one of our apps. */
function killLeftover(pid: number) {
  let cmdline = '';
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return; // gone
  }
  if (/apps\/[a-z-]+\/dist\/main\.js/.test(cmdline)) process.kill(pid, 'SIGKILL');
}

async function startEmbeddedStack(env: Record<string, string> = {}): Promise<EmbeddedStack> {
  const port = await freePort();
  const fullEnv: Record<string, string> = {
    REDIS_URL: inject('redisUrl'),
    PREDICTQ_KEY_PREFIX: `t${randomUUID().slice(0, 8)}`,
    PORT: String(port),
    LM_SIM_PORT: String(await freePort()),
    WORKER_METRICS_PORT: String(await freePortRun(2)),
    PREDICTQ_WORKERS: '2',
    PREDICTQ_ADMIN_KEY: 'test-admin-key',
    OPENAI_BASE_URL: '',
    PREDICTQ_CONFIG: '',
    LOG_LEVEL: 'info',
    ...env,
  };
  const proc = startNode('start.mjs', ['scripts/start.mjs'], fullEnv);
  const pid = (name: string) => {
    const line = proc.lines.find((l) => l.startsWith(`[predictq] started ${name} (pid `));
    const found = line && /\(pid (\d+)\)/.exec(line)?.[1];
    if (!found) throw new Error(`start.mjs printed no pid for ${name}`);
    return Number(found);
  };
  const stop = async () => {
    const pids = proc.lines.flatMap((l) => /^\[predictq\] started .+ \(pid (\d+)\)$/.exec(l)?.[1] ?? []).map(Number);
    const exited = proc.stop('SIGTERM');
    const timer = setTimeout(() => proc.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
    for (const child of pids) killLeftover(child);
  };
  return { proc, url: `http://127.0.0.1:${port}`, env: fullEnv, pid, stop };
}

/** A prediction no cache can answer, so a worker has to run it. */
function predict(url: string) {
  return request(`${url}/v1/predictions`, {
    headers: { Prefer: 'wait=20' },
    body: { signature: 'question -> answer', inputs: { question: `who serves this? ${randomUUID()}` } },
  });
}

async function workersReady(stack: EmbeddedStack, count: number) {
  await stack.proc.waitForLine(/^\[predictq\] ready:/);
  await until(async () => stack.proc.lines.filter((l) => l.includes('worker ready')).length >= count);
}

describe('npm start with a config file without routes, and two workers', () => {
  let stack: EmbeddedStack;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'predictq-embedded-'));
    const configPath = join(dir, 'config.json');
    writeFileSync(configPath, JSON.stringify({ queue: { lock_duration_ms: 3000, stalled_interval_ms: 1000 }, shutdown_timeout_ms: 2000 }));
    stack = await startEmbeddedStack({ PREDICTQ_CONFIG: configPath });
    await workersReady(stack, 2);
  });
  afterAll(async () => {
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts the simulator the default route points at, and a prediction succeeds', async () => {
    const res = await predict(stack.url);
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('succeeded');
    expect(stack.proc.lines.some((l) => l.startsWith('[predictq] started lm-sim (pid '))).toBe(true);
  });

  it('keeps serving after kill -9 of one worker', async () => {
    const killed = stack.pid('worker 1');
    process.kill(killed, 'SIGKILL');
    await stack.proc.waitForLine(/^\[predictq\] worker 1 exited \(SIGKILL\); the producer and the other workers keep running$/);
    expect(isAlive(killed)).toBe(false);
    expect(stack.proc.child.exitCode).toBeNull();

    // Only worker 2 is left to run it.
    const res = await predict(stack.url);
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('succeeded');
    expect(res.body.cache.hit).toBe(false);
  });

  it('keeps the producer up, and says so, when the last worker is gone', async () => {
    process.kill(stack.pid('worker 2'), 'SIGKILL');
    await stack.proc.waitForLine(/^\[predictq\] worker 2 exited \(SIGKILL\); NO WORKER IS LEFT/);
    expect((await request(`${stack.url}/health`)).status).toBe(200);
    const queued = await request(`${stack.url}/v1/predictions`, {
      body: { signature: 'question -> answer', inputs: { question: `nobody serves this ${randomUUID()}` } },
    });
    expect(queued.status).toBe(202);
    expect(stack.proc.child.exitCode).toBeNull();
  });
});

describe('npm start with a worker metrics port already taken', () => {
  let stack: EmbeddedStack;
  let held: HeldPort;
  beforeAll(async () => {
    // Worker 1 gets the held port, worker 2 the free one after it.
    held = await holdPort(await freePortRun(2));
    stack = await startEmbeddedStack({ WORKER_METRICS_PORT: String(held.port) });
    await workersReady(stack, 1);
  });
  afterAll(async () => {
    await stack?.stop();
    await held?.release();
  });

  it('stops that worker with a message naming WORKER_METRICS_PORT, and the rest keep serving', async () => {
    await stack.proc.waitForLine(new RegExp(`^predictq worker: WORKER_METRICS_PORT ${held.port} is already in use; set WORKER_METRICS_PORT `));
    await stack.proc.waitForLine(/^\[predictq\] worker 1 exited \(2\); the producer and the other workers keep running$/);
    const res = await predict(stack.url);
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('succeeded');
    expect(stack.proc.child.exitCode).toBeNull();
  });
});

describe('npm start with a bad config file', () => {
  it('exits 2 with the config error, before starting anything', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'predictq-embedded-'));
    const configPath = join(dir, 'config.json');
    writeFileSync(configPath, '{"routes": [');
    const stack = await startEmbeddedStack({ PREDICTQ_CONFIG: configPath });
    // Runs even when the test times out waiting for an exit that never comes.
    onTestFinished(async () => {
      await stack.stop();
      rmSync(dir, { recursive: true, force: true });
    });
    const code = await new Promise<number | null>((resolve) => stack.proc.child.once('close', resolve));
    expect(code).toBe(2);
    expect(stack.proc.lines.join('\n')).toMatch(/^\[predictq\] PREDICTQ_CONFIG: .* is not a JSON object/m);
    expect(stack.proc.lines.some((l) => l.startsWith('[predictq] started '))).toBe(false);
    expect(stack.proc.lines.some((l) => /^\s+at /.test(l))).toBe(false);
  });
});
