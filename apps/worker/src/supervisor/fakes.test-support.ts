// Fakes for the supervisor's unit tests: a scheduler whose time moves only when told, and
// worker processes that exit when the test says (or on a signal).
import type { Scheduler, WorkerProcess } from './worker-pool.js';

export class FakeScheduler implements Scheduler {
  time = 0;
  #timers: Array<{ at: number; fn: () => void; id: number }> = [];
  #next = 0;

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): () => void {
    const timer = { at: this.time + ms, fn, id: this.#next++ };
    this.#timers.push(timer);
    return () => {
      this.#timers = this.#timers.filter((t) => t !== timer);
    };
  }

  get pending(): number {
    return this.#timers.length;
  }

  /** Moves time forward, running each timer due on the way, in order. */
  advance(ms: number): void {
    const target = this.time + ms;
    for (;;) {
      const due = this.#timers.filter((t) => t.at <= target).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.#timers = this.#timers.filter((t) => t !== due);
      this.time = due.at;
      due.fn();
    }
    this.time = target;
  }
}

export class FakeProcess implements WorkerProcess {
  readonly signals: NodeJS.Signals[] = [];
  exited = false;
  #listener: ((code: number | null, signal: NodeJS.Signals | null) => void) | undefined;

  constructor(
    readonly slot: number,
    readonly pid: number,
    /** Exits by itself on these signals (a worker that drains at once). */
    readonly exitsOn: ReadonlySet<NodeJS.Signals> = new Set(['SIGKILL']),
  ) {}

  kill(signal: NodeJS.Signals): void {
    this.signals.push(signal);
    if (this.exitsOn.has(signal)) this.exit(null, signal);
  }

  onExit(listener: (code: number | null, signal: NodeJS.Signals | null) => void): void {
    this.#listener = listener;
  }

  exit(code: number | null, signal: NodeJS.Signals | null = null): void {
    if (this.exited) return;
    this.exited = true;
    this.#listener?.(code, signal);
  }
}

/** A spawner that records every process it makes. */
export function fakeSpawner(exitsOn?: ReadonlySet<NodeJS.Signals>) {
  const spawned: FakeProcess[] = [];
  let pid = 1000;
  return {
    spawned,
    /** The live process of a slot. */
    live: (slot: number) => [...spawned].reverse().find((p) => p.slot === slot && !p.exited),
    spawn: (slot: number) => {
      const child = new FakeProcess(slot, ++pid, exitsOn);
      spawned.push(child);
      return child;
    },
  };
}

export function logRecorder() {
  const lines: string[] = [];
  return { lines, log: (level: string, message: string) => void lines.push(`${level}: ${message}`) };
}
