// The benchmark harness: each case measures predictq and a baseline in the same run,
// alternating, and prints medians and their ratio.

export interface Measurement {
  /** Operations per second (higher is better) or milliseconds (lower is better). */
  value: number;
}

export interface BenchCase {
  name: string;
  unit: 'ops/s' | 'ms';
  runs: number;
  /** Unmeasured runs of each side first (JIT, connection pools), when later runs settle higher. */
  warmups?: number;
  baselineName: string;
  setup(): Promise<void>;
  baseline(): Promise<number>;
  subject(): Promise<number>;
  teardown(): Promise<void>;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export async function runCase(c: BenchCase): Promise<{ subject: number; baseline: number; ratio: number }> {
  await c.setup();
  const subject: number[] = [];
  const baseline: number[] = [];
  try {
    for (let i = 0; i < (c.warmups ?? 0); i++) {
      await c.baseline();
      await c.subject();
    }
    for (let i = 0; i < c.runs; i++) {
      // Alternate the order so warm-up and drift do not favour one side.
      if (i % 2 === 0) {
        baseline.push(await c.baseline());
        subject.push(await c.subject());
      } else {
        subject.push(await c.subject());
        baseline.push(await c.baseline());
      }
    }
  } finally {
    await c.teardown();
  }
  const s = median(subject);
  const b = median(baseline);
  const fmt = (v: number) => (c.unit === 'ms' ? `${v.toFixed(2)} ms` : `${v.toFixed(1)} ops/s`);
  console.log(`\n${c.name}`);
  console.log(`  predictq            median ${fmt(s)}   runs: ${subject.map((v) => v.toFixed(1)).join(', ')}`);
  console.log(`  ${c.baselineName.padEnd(19)} median ${fmt(b)}   runs: ${baseline.map((v) => v.toFixed(1)).join(', ')}`);
  console.log(`  ratio predictq / baseline: ${(s / b).toFixed(2)}`);
  return { subject: s, baseline: b, ratio: s / b };
}
