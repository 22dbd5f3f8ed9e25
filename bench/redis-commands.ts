// Redis commands per uncached prediction, from `INFO commandstats` deltas around one run of
// the worker pipeline and one of a bare BullMQ job (same job count, same simulator). Counts
// include the commands scripts run inside Redis; `sent` counts what clients sent
// (script calls count once), which is what costs a worker CPU and latency.
import { Redis } from 'ioredis';
import type { BenchCase } from './harness.js';

/** Every command Redis ran since the last RESETSTAT, those scripts ran included. */
async function commandsRun(redis: Redis): Promise<number> {
  const info = await redis.info('commandstats');
  let total = 0;
  for (const m of info.matchAll(/^cmdstat_[^:]+:calls=(\d+)/gm)) total += Number(m[1]);
  return total;
}

/**
 * Counts what clients send while `run` runs, with MONITOR: Redis marks the commands a script
 * runs with "lua", so those are left out (INFO's counters include them).
 */
async function clientCommands(redisUrl: string, run: () => Promise<number>): Promise<Map<string, number>> {
  const monitor = await new Redis(redisUrl).monitor();
  const sent = new Map<string, number>();
  let flushed: (() => void) | undefined;
  const marker = `predictq-bench-flush-${process.pid}`;
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    if (args[0]?.toLowerCase() === 'echo' && args[1] === marker) return flushed?.();
    const name = args[0]!.toLowerCase();
    if (!source.includes('lua')) sent.set(name, (sent.get(name) ?? 0) + 1);
  });
  try {
    await run();
    // MONITOR lines trail the commands: wait for a marker sent after the run.
    const probe = new Redis(redisUrl);
    await Promise.all([new Promise<void>((resolve) => (flushed = resolve)), probe.echo(marker)]);
    probe.disconnect();
    return sent;
  } finally {
    monitor.disconnect();
  }
}

async function measure(redisUrl: string, redis: Redis, jobs: number, run: () => Promise<number>): Promise<{ perJob: number; sentPerJob: number; top: string }> {
  await redis.config('RESETSTAT');
  const sent = await clientCommands(redisUrl, run);
  const ran = await commandsRun(redis);
  // CONFIG RESETSTAT, MONITOR, the marker ECHO and INFO are this function's own.
  const own = 4;
  const top = [...sent]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 8)
    .map(([name, calls]) => `${name} ${(calls / jobs).toFixed(1)}`)
    .join(', ');
  const sentTotal = [...sent.values()].reduce((a, b) => a + b, 0);
  return { perJob: (ran - own) / jobs, sentPerJob: sentTotal / jobs, top };
}

/** Prints commands per job of `c`'s subject and baseline (one run each, after a warm-up run). */
export async function redisCommandsPerPrediction(redisUrl: string, c: BenchCase, jobs: number): Promise<{ subject: number; baseline: number }> {
  const redis = new Redis(redisUrl, { lazyConnect: false });
  await c.setup();
  try {
    await c.subject();
    await c.baseline();
    const baseline = await measure(redisUrl, redis, jobs, () => c.baseline());
    const subject = await measure(redisUrl, redis, jobs, () => c.subject());
    console.log(`\nRedis commands per uncached prediction (${jobs} jobs, INFO commandstats deltas; sent = commands clients sent, a script call once; the cache's go several to a write, auto-pipelined)`);
    console.log(`  predictq            ${subject.perJob.toFixed(1)} commands, ${subject.sentPerJob.toFixed(1)} sent (${subject.top})`);
    console.log(`  bare BullMQ job     ${baseline.perJob.toFixed(1)} commands, ${baseline.sentPerJob.toFixed(1)} sent (${baseline.top})`);
    console.log(`  ratio predictq / baseline: ${(subject.sentPerJob / baseline.sentPerJob).toFixed(2)} sent, ${(subject.perJob / baseline.perJob).toFixed(2)} in all`);
    return { subject: subject.sentPerJob, baseline: baseline.sentPerJob };
  } finally {
    await c.teardown();
    redis.disconnect();
  }
}
