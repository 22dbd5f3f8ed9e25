import { describe, expect, it } from 'vitest';
import { AutoscaleSettingsSchema, ConfigError, loadConfig, type RouteLoad, type SupervisorStatus } from '@predictq/core';
import { FakeScheduler, fakeSpawner, logRecorder } from './fakes.test-support.js';
import { Supervisor, type WorkerPlan } from './supervisor.js';
import { workerPlan } from './worker-plan.js';
import { WorkerPool } from './worker-pool.js';

const flush = () => new Promise((resolve) => setImmediate(resolve));

function load(overrides: Partial<RouteLoad> = {}): RouteLoad {
  return { route: 'default', concurrency: 10, backlog: 0, active: 0, oldestWaitingS: 0, breaker: 'closed', pausedMs: 0, limits: {}, defaultTokensPerCall: 256, ...overrides };
}

function setup(plan: WorkerPlan) {
  const scheduler = new FakeScheduler();
  const spawner = fakeSpawner(new Set(['SIGTERM', 'SIGKILL']));
  const logs = logRecorder();
  const pool = new WorkerPool({ spawn: spawner.spawn, scheduler, log: logs.log, drainTimeoutMs: 5000 });
  const published: SupervisorStatus[] = [];
  let loads: RouteLoad[] | Error = [load()];
  const supervisor = new Supervisor({
    pool,
    plan,
    scheduler,
    log: logs.log,
    readLoads: async () => {
      if (loads instanceof Error) throw loads;
      return loads;
    },
    publish: async (status) => void published.push(status),
  });
  /** Advances one interval and lets the tick's promises settle. */
  const tick = async (ms: number) => {
    scheduler.advance(ms);
    await flush();
  };
  return { scheduler, spawner, logs, pool, supervisor, published, setLoads: (l: RouteLoad[] | Error) => (loads = l), tick };
}

const AUTO: WorkerPlan = {
  mode: 'auto',
  settings: AutoscaleSettingsSchema.parse({ min: 1, max: 3, interval_ms: 1000, scale_up_cooldown_ms: 0, scale_down_delay_ms: 3000 }),
};

describe('Supervisor', () => {
  it('autoscales: starts at min, scales up on a backlog and back down, logging and publishing each decision', async () => {
    const s = setup(AUTO);
    s.supervisor.start();
    expect(s.pool.size).toBe(1);
    await s.tick(0);
    expect(s.published.at(-1)).toMatchObject({ mode: 'auto', min: 1, max: 3, desired: 1, running: 1 });

    s.setLoads([load({ backlog: 100 })]);
    await s.tick(1000);
    expect(s.pool.size).toBe(3);
    expect(s.pool.running).toBe(3);
    expect(s.logs.lines).toContain('info: autoscale: 1 -> 3 workers: route default: 100 ready + 0 running jobs want 10 workers (10 jobs each) (max 3)');
    expect(s.published.at(-1)).toMatchObject({ desired: 3, running: 3, routes: [{ route: 'default', backlog: 100, cap: null }] });

    s.setLoads([load()]);
    for (let i = 0; i < 4; i++) await s.tick(1000);
    expect(s.pool.size).toBe(1);
    expect(s.logs.lines.some((l) => l.startsWith('info: autoscale: 3 -> 1 workers: no job is running or ready; 1 did for all of the last 3000 ms'))).toBe(true);
    expect(s.logs.lines.filter((l) => l.startsWith('info: draining worker'))).toHaveLength(2);
    expect(s.published.at(-1)!.decisions.map((d) => [d.from, d.to])).toEqual([[3, 1], [1, 3], [0, 1]]);
  });

  it('keeps its workers while the queues cannot be read, and says so once', async () => {
    const s = setup(AUTO);
    s.supervisor.start();
    s.setLoads([load({ backlog: 100 })]);
    await s.tick(0);
    s.setLoads(new Error('connection is closed'));
    for (let i = 0; i < 5; i++) await s.tick(1000);
    expect(s.pool.size).toBe(3);
    expect(s.logs.lines.filter((l) => l.includes('cannot read the queues'))).toEqual(['warn: autoscale: cannot read the queues (connection is closed); keeping 3 workers']);
    s.setLoads([load({ backlog: 100 })]);
    await s.tick(1000);
    expect(s.logs.lines.at(-1)).toBe('info: autoscale: the queues can be read again');
  });

  it('runs a fixed count without reading the queues, restarting what dies', async () => {
    const s = setup({ mode: 'fixed', workers: 2 });
    s.setLoads(new Error('never read'));
    s.supervisor.start();
    await s.tick(0);
    expect(s.published.at(-1)).toMatchObject({ mode: 'fixed', desired: 2, running: 2, min: 2, max: 2 });
    s.spawner.live(1)!.exit(null, 'SIGKILL');
    await s.tick(1000);
    expect(s.pool.running).toBe(2);
    expect(s.logs.lines.some((l) => l.includes('cannot read'))).toBe(false);
  });

  it('stop(): no more decisions, every worker drained', async () => {
    const s = setup(AUTO);
    s.supervisor.start();
    s.setLoads([load({ backlog: 100 })]);
    await s.tick(0);
    await s.supervisor.stop(10_000);
    expect(s.spawner.spawned.every((p) => p.exited && p.signals[0] === 'SIGTERM')).toBe(true);
    expect(s.scheduler.pending).toBe(0);
  });
});

describe('workerPlan', () => {
  const plain = loadConfig({});
  it('reads PREDICTQ_WORKERS as a count or "auto", else follows the config', () => {
    expect(workerPlan(plain, undefined)).toEqual({ mode: 'fixed', workers: 1 });
    expect(workerPlan(plain, '4')).toEqual({ mode: 'fixed', workers: 4 });
    expect(workerPlan(plain, 'auto')).toEqual({ mode: 'auto', settings: AutoscaleSettingsSchema.parse({}) });
    const withSection = { ...plain, autoscale: AutoscaleSettingsSchema.parse({ min: 2, max: 6 }) };
    expect(workerPlan(withSection, '')).toMatchObject({ mode: 'auto', settings: { min: 2, max: 6 } });
    expect(workerPlan(withSection, '3')).toEqual({ mode: 'fixed', workers: 3 });
  });

  it('refuses anything else, naming the setting', () => {
    for (const bad of ['0', '65', 'two', '1.5']) {
      expect(() => workerPlan(plain, bad)).toThrow(ConfigError);
      expect(() => workerPlan(plain, bad)).toThrow(/PREDICTQ_WORKERS/);
    }
  });
});
