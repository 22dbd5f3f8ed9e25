// The worker processes of `npm start`: keeps `size` of them running in numbered slots (a slot
// keeps its metrics port across restarts). A worker that dies is restarted with exponential
// backoff; one that keeps dying (crash_loop_restarts within crash_loop_window_ms) or that exits
// with 2 (a setting is wrong: restarting cannot help) is left down and reported. Shrinking
// drains the highest slots: SIGTERM lets their active jobs finish (the worker's own shutdown
// deadline), and a worker still alive after drain_timeout_ms is killed. Process creation and
// time are injected, so all of this runs in unit tests with fakes.
import type { WorkerSlotState, WorkerSlotStatus } from '@predictq/core';

export interface WorkerProcess {
  readonly pid: number | undefined;
  kill(signal: NodeJS.Signals): void;
  /** Called once, when the process has exited (or could not be started: code null, signal null). */
  onExit(listener: (code: number | null, signal: NodeJS.Signals | null) => void): void;
}

/** Starts the worker of a slot (1-based). */
export type SpawnWorker = (slot: number) => WorkerProcess;

export interface Scheduler {
  now(): number;
  /** Runs `fn` after `ms`; the returned function cancels it. */
  setTimeout(fn: () => void, ms: number): () => void;
}

export const systemScheduler: Scheduler = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const timer = setTimeout(fn, ms);
    timer.unref();
    return () => clearTimeout(timer);
  },
};

export interface RestartPolicy {
  /** First restart delay; doubles with each restart inside the crash-loop window. */
  initial_backoff_ms: number;
  max_backoff_ms: number;
  /** This many restarts within the window make a crash loop: the slot is left down. */
  crash_loop_restarts: number;
  crash_loop_window_ms: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  initial_backoff_ms: 1000,
  max_backoff_ms: 30_000,
  crash_loop_restarts: 5,
  crash_loop_window_ms: 60_000,
};

export type PoolLog = (level: 'info' | 'warn' | 'error', message: string) => void;

export interface WorkerPoolOptions {
  spawn: SpawnWorker;
  scheduler?: Scheduler;
  log: PoolLog;
  restart?: Partial<RestartPolicy>;
  /** A draining worker still alive after this is killed (its own shutdown deadline plus a margin). */
  drainTimeoutMs: number;
}

/** Exit code of a predictq process stopped by a bad setting (config, taken port). */
const SETTING_EXIT_CODE = 2;

interface Slot {
  slot: number;
  state: WorkerSlotState | 'stopped';
  child: WorkerProcess | undefined;
  /** When it was (re)started after a death, within the crash-loop window. */
  restarts: number[];
  /** Cancels the pending restart or the drain's kill timer. */
  timer: (() => void) | undefined;
  /** Resolves stop()'s wait for this worker. */
  stopped: (() => void) | undefined;
}

const describeExit = (code: number | null, signal: NodeJS.Signals | null) => String(signal ?? code);

export class WorkerPool {
  readonly #options: WorkerPoolOptions;
  readonly #scheduler: Scheduler;
  readonly #restart: RestartPolicy;
  readonly #slots = new Map<number, Slot>();
  #size = 0;
  #stopping = false;

  constructor(options: WorkerPoolOptions) {
    this.#options = options;
    this.#scheduler = options.scheduler ?? systemScheduler;
    this.#restart = { ...DEFAULT_RESTART_POLICY, ...options.restart };
  }

  /** The count asked for by the last resize(). */
  get size(): number {
    return this.#size;
  }

  /** Workers running and taking jobs. */
  get running(): number {
    return [...this.#slots.values()].filter((s) => s.state === 'running').length;
  }

  get draining(): number {
    return [...this.#slots.values()].filter((s) => s.state === 'draining').length;
  }

  status(): WorkerSlotStatus[] {
    return [...this.#slots.values()]
      .filter((s) => s.state !== 'stopped')
      .sort((a, b) => a.slot - b.slot)
      .map((s) => ({ slot: s.slot, pid: s.child?.pid ?? null, state: s.state as WorkerSlotState, restarts: s.restarts.length }));
  }

  /** Starts or drains workers until `size` slots are kept (running, restarting or given up on). */
  resize(size: number): void {
    if (this.#stopping) return;
    this.#size = size;
    const kept = () => [...this.#slots.values()].filter((s) => s.state === 'running' || s.state === 'restarting' || s.state === 'crash_loop' || s.state === 'failed');
    for (let slot = 1; kept().length < size; slot++) {
      const existing = this.#slots.get(slot);
      if (existing && existing.state !== 'stopped') continue;
      this.#start(slot);
    }
    const extra = kept().sort((a, b) => b.slot - a.slot).slice(0, Math.max(0, kept().length - size));
    for (const slot of extra) this.#drain(slot);
  }

  /** SIGTERM to every worker; SIGKILL to any still alive after `deadlineMs`. Resolves when all have exited. */
  async stop(deadlineMs: number): Promise<void> {
    this.#stopping = true;
    const live: Array<Promise<void>> = [];
    for (const slot of this.#slots.values()) {
      slot.timer?.();
      slot.timer = undefined;
      const child = slot.child;
      if (!child || (slot.state !== 'running' && slot.state !== 'draining')) {
        slot.state = 'stopped';
        continue;
      }
      live.push(new Promise((resolve) => (slot.stopped = resolve)));
      const wasRunning = slot.state === 'running';
      slot.state = 'draining';
      if (wasRunning) child.kill('SIGTERM');
    }
    if (live.length === 0) return;
    const kill = this.#scheduler.setTimeout(() => {
      for (const slot of this.#slots.values()) {
        if (slot.state !== 'draining' || !slot.child) continue;
        this.#options.log('warn', `worker ${slot.slot} did not stop within ${deadlineMs} ms; killing it`);
        slot.child.kill('SIGKILL');
      }
    }, deadlineMs);
    await Promise.all(live);
    kill();
  }

  #start(number: number): void {
    const slot: Slot = this.#slots.get(number) ?? { slot: number, state: 'stopped', child: undefined, restarts: [], timer: undefined, stopped: undefined };
    this.#slots.set(number, slot);
    slot.timer = undefined;
    slot.state = 'running';
    let child: WorkerProcess;
    try {
      child = this.#options.spawn(number);
    } catch (err) {
      slot.child = undefined;
      this.#options.log('error', `worker ${number} could not be started: ${(err as Error).message}`);
      this.#died(slot, null, null);
      return;
    }
    slot.child = child;
    // The same line for a restart: what started and its pid is what an operator looks for.
    this.#options.log('info', `started worker ${number} (pid ${child.pid ?? '?'})`);
    child.onExit((code, signal) => {
      if (slot.child !== child) return;
      slot.child = undefined;
      if (slot.state === 'draining') {
        slot.state = 'stopped';
        slot.timer?.();
        slot.timer = undefined;
        if (!this.#stopping) this.#options.log('info', `worker ${number} drained and stopped (${describeExit(code, signal)})`);
        slot.stopped?.();
        slot.stopped = undefined;
        return;
      }
      this.#died(slot, code, signal);
    });
  }

  #died(slot: Slot, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.#stopping) {
      slot.state = 'stopped';
      return;
    }
    const how = describeExit(code, signal);
    const now = this.#scheduler.now();
    slot.restarts = slot.restarts.filter((t) => now - t < this.#restart.crash_loop_window_ms);
    if (code === SETTING_EXIT_CODE) {
      slot.state = 'failed';
      this.#options.log('error', `worker ${slot.slot} exited (${how}): a setting is wrong (see its message above); not restarting it. ${this.#left()}`);
      return;
    }
    if (slot.restarts.length >= this.#restart.crash_loop_restarts) {
      slot.state = 'crash_loop';
      this.#options.log(
        'error',
        `worker ${slot.slot} exited (${how}) ${slot.restarts.length + 1} times within ${this.#restart.crash_loop_window_ms} ms: a crash loop; not restarting it. ${this.#left()}`,
      );
      return;
    }
    const delay = Math.min(this.#restart.max_backoff_ms, this.#restart.initial_backoff_ms * 2 ** slot.restarts.length);
    slot.restarts.push(now);
    slot.state = 'restarting';
    this.#options.log('warn', `worker ${slot.slot} exited (${how}); restarting it in ${delay} ms. ${this.#left()}`);
    slot.timer = this.#scheduler.setTimeout(() => {
      if (slot.state === 'restarting' && !this.#stopping) this.#start(slot.slot);
    }, delay);
  }

  #drain(slot: Slot): void {
    slot.timer?.();
    slot.timer = undefined;
    if (slot.state !== 'running' || !slot.child) {
      slot.state = 'stopped';
      return;
    }
    slot.state = 'draining';
    const child = slot.child;
    this.#options.log('info', `draining worker ${slot.slot} (pid ${child.pid ?? '?'}): it finishes its active jobs, then stops`);
    slot.timer = this.#scheduler.setTimeout(() => {
      if (slot.child !== child) return;
      this.#options.log('warn', `worker ${slot.slot} did not drain within ${this.#options.drainTimeoutMs} ms; killing it`);
      child.kill('SIGKILL');
    }, this.#options.drainTimeoutMs);
    child.kill('SIGTERM');
  }

  /** What is left serving, for the log line of a lost worker. */
  #left(): string {
    const running = this.running;
    if (running > 0) return `The producer and ${running} other worker${running === 1 ? '' : 's'} keep running.`;
    return 'NO WORKER IS RUNNING: the producer keeps accepting predictions, but they stay queued until one runs.';
  }
}
