// `npm start` (scripts/start.mjs, running the built apps) as a real process for a test, on the
// suite's private Redis with its own key prefix, and the simulator it starts on a free port.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { request } from './http.js';
import { freePortRun } from './ports.js';
import { startNode, type AppProcess } from './processes.js';
import { freePort } from './redis-server.js';

export const ADMIN = { authorization: 'Bearer test-admin-key' };

export interface EmbeddedStack {
  proc: AppProcess;
  url: string;
  /** The simulator start.mjs runs (`/sim/faults`, `/sim/stats`). */
  simUrl: string;
  env: Record<string, string>;
  keyPrefix: string;
  /** The pid start.mjs printed last for a child, e.g. `worker 2` (a restart prints a new one). */
  pid(name: string): number;
  /** Every pid start.mjs printed. */
  pids(): number[];
  stop(): Promise<void>;
}

export const isAlive = (pid: number) => {
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

export interface EmbeddedStackOptions {
  env?: Record<string, string>;
  /** Written to a PREDICTQ_CONFIG file; a function gets the simulator's URL (for routes). */
  config?: Record<string, unknown> | ((simUrl: string) => Record<string, unknown>);
  /** Worker metrics ports to reserve (the base port + slot - 1). */
  metricsPorts?: number;
}

export async function startEmbeddedStack(options: EmbeddedStackOptions = {}): Promise<EmbeddedStack> {
  const port = await freePort();
  const simPort = await freePort();
  const simUrl = `http://127.0.0.1:${simPort}`;
  const keyPrefix = `t${randomUUID().slice(0, 8)}`;
  let dir: string | undefined;
  let configPath = '';
  if (options.config) {
    dir = mkdtempSync(join(tmpdir(), 'predictq-embedded-'));
    configPath = join(dir, 'config.json');
    const config = typeof options.config === 'function' ? options.config(`${simUrl}/v1`) : options.config;
    writeFileSync(configPath, JSON.stringify(config));
  }
  const fullEnv: Record<string, string> = {
    REDIS_URL: inject('redisUrl'),
    PREDICTQ_KEY_PREFIX: keyPrefix,
    PORT: String(port),
    LM_SIM_PORT: String(simPort),
    WORKER_METRICS_PORT: String(await freePortRun(options.metricsPorts ?? 2)),
    PREDICTQ_WORKERS: '2',
    PREDICTQ_ADMIN_KEY: 'test-admin-key',
    OPENAI_BASE_URL: '',
    PREDICTQ_CONFIG: configPath,
    LOG_LEVEL: 'info',
    ...options.env,
  };
  const proc = startNode('start.mjs', ['scripts/start.mjs'], fullEnv);
  const started = (name: string) =>
    proc.lines.flatMap((l) => (l.startsWith(`[predictq] started ${name} (pid `) ? [Number(/\(pid (\d+)\)/.exec(l)![1])] : []));
  const pids = () => proc.lines.flatMap((l) => /^\[predictq\] started .+ \(pid (\d+)\)$/.exec(l)?.[1] ?? []).map(Number);
  return {
    proc,
    url: `http://127.0.0.1:${port}`,
    simUrl,
    env: fullEnv,
    keyPrefix,
    pid(name) {
      const found = started(name).at(-1);
      if (found === undefined) throw new Error(`start.mjs printed no pid for ${name}`);
      return found;
    },
    pids,
    async stop() {
      const exited = proc.stop('SIGTERM');
      const timer = setTimeout(() => proc.child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
      for (const child of pids()) killLeftover(child);
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The `autoscale` section of GET /admin/stats. */
export async function autoscaleStats(stack: EmbeddedStack): Promise<any> {
  return (await request(`${stack.url}/admin/stats`, { headers: ADMIN })).body.autoscale;
}

/** Sets the simulator's faults (latency_ms, ...). */
export async function simFaults(stack: EmbeddedStack, faults: Record<string, unknown>): Promise<void> {
  const res = await request(`${stack.simUrl}/sim/faults`, { method: 'PUT', body: faults });
  if (res.status !== 200) throw new Error(`sim faults: ${res.status}`);
}

export async function simRequests(stack: EmbeddedStack): Promise<number> {
  return (await request(`${stack.simUrl}/sim/stats`)).body.requests as number;
}
