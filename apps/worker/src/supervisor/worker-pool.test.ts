import { describe, expect, it } from 'vitest';
import { FakeScheduler, fakeSpawner, logRecorder } from './fakes.test-support.js';
import { WorkerPool } from './worker-pool.js';

function pool(options: { exitsOn?: ReadonlySet<NodeJS.Signals> } = {}) {
  const scheduler = new FakeScheduler();
  const spawner = fakeSpawner(options.exitsOn);
  const logs = logRecorder();
  const workers = new WorkerPool({ spawn: spawner.spawn, scheduler, log: logs.log, drainTimeoutMs: 10_000 });
  return { scheduler, spawner, logs, workers };
}

describe('WorkerPool', () => {
  it('starts one worker per slot and prints each pid', () => {
    const { spawner, logs, workers } = pool();
    workers.resize(3);
    expect(spawner.spawned.map((p) => p.slot)).toEqual([1, 2, 3]);
    expect(workers.running).toBe(3);
    expect(logs.lines).toEqual(['info: started worker 1 (pid 1001)', 'info: started worker 2 (pid 1002)', 'info: started worker 3 (pid 1003)']);
  });

  it('restarts a worker that dies, in its slot, after the backoff; the others keep running', () => {
    const { scheduler, spawner, logs, workers } = pool();
    workers.resize(2);
    spawner.live(1)!.exit(null, 'SIGKILL');
    expect(workers.running).toBe(1);
    expect(logs.lines.at(-1)).toBe('warn: worker 1 exited (SIGKILL); restarting it in 1000 ms. The producer and 1 other worker keep running.');
    expect(workers.status()).toMatchObject([{ slot: 1, state: 'restarting', pid: null }, { slot: 2, state: 'running' }]);
    scheduler.advance(999);
    expect(spawner.spawned).toHaveLength(2);
    scheduler.advance(1);
    expect(spawner.spawned.map((p) => p.slot)).toEqual([1, 2, 1]);
    expect(workers.running).toBe(2);
    expect(logs.lines.at(-1)).toBe('info: started worker 1 (pid 1003)');
  });

  it('doubles the backoff while a worker keeps dying, then gives up on a crash loop', () => {
    const { scheduler, spawner, logs, workers } = pool();
    workers.resize(1);
    const delays: number[] = [];
    for (let death = 0; death < 5; death++) {
      spawner.live(1)!.exit(1);
      delays.push(Number(/restarting it in (\d+) ms/.exec(logs.lines.at(-1)!)![1]));
      scheduler.advance(delays.at(-1)!);
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16_000]);
    spawner.live(1)!.exit(1);
    expect(logs.lines.at(-1)).toMatch(/^error: worker 1 exited \(1\) 6 times within 60000 ms: a crash loop; not restarting it\. NO WORKER IS RUNNING/);
    scheduler.advance(600_000);
    expect(spawner.spawned).toHaveLength(6);
    expect(workers.status()).toMatchObject([{ slot: 1, state: 'crash_loop' }]);
    // The given-up slot still counts toward the size: the pool does not start a replacement.
    workers.resize(1);
    expect(spawner.spawned).toHaveLength(6);
  });

  it('forgets deaths older than the window: a worker that ran a while restarts after the first backoff', () => {
    const { scheduler, spawner, logs, workers } = pool();
    workers.resize(1);
    spawner.live(1)!.exit(1);
    scheduler.advance(1000);
    spawner.live(1)!.exit(1);
    expect(logs.lines.at(-1)).toContain('restarting it in 2000 ms');
    scheduler.advance(2000 + 120_000);
    spawner.live(1)!.exit(1);
    expect(logs.lines.at(-1)).toContain('restarting it in 1000 ms');
  });

  it('does not restart a worker stopped by a bad setting (exit 2)', () => {
    const { scheduler, spawner, logs, workers } = pool();
    workers.resize(2);
    spawner.live(1)!.exit(2);
    scheduler.advance(60_000);
    expect(spawner.spawned).toHaveLength(2);
    expect(logs.lines.at(-1)).toBe(
      'error: worker 1 exited (2): a setting is wrong (see its message above); not restarting it. The producer and 1 other worker keep running.',
    );
    expect(workers.status()).toMatchObject([{ slot: 1, state: 'failed' }, { slot: 2, state: 'running' }]);
  });

  it('drains the highest slots when it shrinks (SIGTERM), never restarts them, and kills one that outstays the drain timeout', () => {
    const { scheduler, spawner, workers } = pool();
    workers.resize(3);
    workers.resize(1);
    const [first, second, third] = spawner.spawned;
    expect(first!.signals).toEqual([]);
    expect(second!.signals).toEqual(['SIGTERM']);
    expect(third!.signals).toEqual(['SIGTERM']);
    expect(workers.running).toBe(1);
    expect(workers.draining).toBe(2);
    third!.exit(0);
    scheduler.advance(9_999);
    expect(second!.signals).toEqual(['SIGTERM']);
    scheduler.advance(1);
    expect(second!.signals).toEqual(['SIGTERM', 'SIGKILL']);
    expect(workers.draining).toBe(0);
    scheduler.advance(60_000);
    expect(spawner.spawned).toHaveLength(3);
    // Growing again starts fresh workers in the free slots.
    workers.resize(2);
    expect(spawner.spawned.map((p) => p.slot)).toEqual([1, 2, 3, 2]);
  });

  it('cancels a pending restart when it shrinks past that slot', () => {
    const { scheduler, spawner, workers } = pool();
    workers.resize(2);
    spawner.live(2)!.exit(1);
    workers.resize(1);
    scheduler.advance(10_000);
    expect(spawner.spawned).toHaveLength(2);
    expect(workers.status()).toMatchObject([{ slot: 1, state: 'running' }]);
  });

  it('stop(): SIGTERM to all, SIGKILL to those alive at the deadline, no restarts; resolves when all exited', async () => {
    const { scheduler, spawner, workers } = pool();
    workers.resize(3);
    spawner.live(3)!.exit(1); // a restart is pending
    let done = false;
    const stopped = workers.stop(25_000).then(() => (done = true));
    const [first, second] = spawner.spawned;
    expect(first!.signals).toEqual(['SIGTERM']);
    expect(second!.signals).toEqual(['SIGTERM']);
    first!.exit(0);
    await Promise.resolve();
    expect(done).toBe(false);
    scheduler.advance(25_000);
    expect(second!.signals).toEqual(['SIGTERM', 'SIGKILL']);
    await stopped;
    expect(done).toBe(true);
    scheduler.advance(60_000);
    expect(spawner.spawned).toHaveLength(3);
    workers.resize(3);
    expect(spawner.spawned).toHaveLength(3);
  });
});
