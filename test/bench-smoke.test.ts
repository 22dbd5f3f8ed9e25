// `npm run bench -- --smoke` in CI, so the benchmarks cannot rot: every case runs at a few
// seconds' size against its own private Redis and prints each figure with its baseline. The
// figures at this size are not measurements; only that each is printed is checked here.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ROOT } from './utils/processes.js';

function runSmokeBench(): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    // Its own private Redis: the bench resets INFO's counters and MONITORs what it measures.
    const { REDIS_BENCH_URL: _shared, ...env } = process.env;
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', 'bench/index.ts', '--smoke'], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, output }));
  });
}

describe('npm run bench -- --smoke', () => {
  it('runs every case and prints each figure against its baseline', { timeout: 300_000 }, async () => {
    const { code, output } = await runSmokeBench();
    expect(output, output).not.toMatch(/Error|NaN|Infinity/);
    expect(code, output).toBe(0);
    for (const figure of [
      /uncached predictions through the worker .*simulator at 0 ms\)\n.*\n.*\n {2}ratio predictq \/ baseline: \d/,
      /Redis commands per uncached prediction[^\n]*\n {2}predictq +[\d.]+ commands, [\d.]+ sent[^\n]*\n {2}bare BullMQ job +[\d.]+ commands/,
      /ratio cache hit \/ Portkey: [\d.]+ \(rounds: [\d., ]+\) \(target >= 5\); its p99 \/ its p50: [\d.]+/,
      /ratio uncached \/ Portkey with the same LM request: [\d.]+ \(rounds: [\d., ]+\) \(target >= 1\); p50 [\d.]+ ms vs [\d.]+ ms/,
      /uncached \/ Portkey with the one-line question: [\d.]+ \(rounds: [\d., ]+\); p50 [\d.]+ ms vs [\d.]+ ms/,
      /producer RSS under this load: peak \d+ MB/,
      /worker RSS with \d+ L1 entries: \d+ MB/,
      /cache hit via the producer fast path[^\n]*latency/,
      /chat completions through the queue/,
      /first-token latency/,
      /batch ingest of a/,
      /prediction throughput with callbacks/,
    ]) {
      expect(output).toMatch(figure);
    }
    // Every case printed its ratio: 2 uncached, Redis commands, 4 cache hit, 2 chat, 1 batch, 3 webhook.
    expect(output.match(/ratio predictq \/ baseline: \d+\.\d+/g)?.length).toBe(13);
  });
});
