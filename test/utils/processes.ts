// Spawns predictq apps as real processes, running their TypeScript source (tsx, with the
// "source" export condition so workspace packages resolve to src/ too), or any node script.
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface AppProcess {
  child: ChildProcess;
  /** Every line the process printed (stdout and stderr). */
  lines: string[];
  /** Resolves with the first line matching, or rejects after the timeout. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /**
   * Stops reading lines: the output is drained unread from now on. A benchmark calls it once the
   * lines it needs were seen, so splitting and keeping a loaded server's log lines does not take
   * the load generator's CPU (or grow without bound).
   */
  quiet(): void;
}

/** A worker's /metrics URL, from the line it prints when ready (WORKER_METRICS_PORT=0 picks a free port). */
export async function workerMetricsUrl(worker: AppProcess): Promise<string> {
  const ready = await worker.waitForLine(/worker ready/);
  const url = /(http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(ready)?.[1];
  if (!url) throw new Error(`no metrics URL in: ${ready}`);
  return url;
}

/** The text of a worker's /metrics. */
export async function workerMetrics(worker: AppProcess): Promise<string> {
  return (await fetch(await workerMetricsUrl(worker))).text();
}

export function startApp(app: 'producer' | 'worker' | 'lm-sim', env: Record<string, string>): AppProcess {
  return startNode(app, ['--conditions=source', '--import', 'tsx', join(ROOT, 'apps', app, 'src', 'main.ts')], env);
}

/** `node <args>` in the repository root with the test's environment plus `env`. */
export function startNode(name: string, args: string[], env: Record<string, string>): AppProcess {
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiters: Array<{ pattern: RegExp; resolve: (line: string) => void }> = [];
  const onLine = (line: string) => {
    if (!line) return;
    lines.push(line);
    for (const waiter of [...waiters]) {
      if (waiter.pattern.test(line)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  };
  // Whole lines only: a chunk can end mid-line, and a stack's children write long log lines.
  const readers = [child.stdout!, child.stderr!].map((input) => createInterface({ input, crlfDelay: Infinity }).on('line', onLine));
  return {
    child,
    lines,
    waitForLine(pattern, timeoutMs = 45_000) {
      const seen = lines.find((l) => pattern.test(l));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${name}: no line matching ${pattern} within ${timeoutMs} ms; got:\n${lines.slice(-20).join('\n')}`)), timeoutMs);
        waiters.push({ pattern, resolve: (l) => (clearTimeout(timer), resolve(l)) });
        child.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`${name} exited with ${code} before printing ${pattern}:\n${lines.slice(-20).join('\n')}`));
        });
      });
    },
    quiet() {
      for (const reader of readers) reader.close();
      child.stdout!.resume();
      child.stderr!.resume();
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill(signal);
      return exited;
    },
  };
}
