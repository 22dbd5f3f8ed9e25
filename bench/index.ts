// `npm run bench`: every benchmark case, each against a baseline measured in the same run.
// Uses REDIS_BENCH_URL when set, else a private redis-server on a free port.
// `--smoke`: every case at a few seconds' size (CI runs it so the benchmarks cannot rot; its
// figures are too small to quote). Sizes set in the environment still win.
import { startRedis } from '../test/utils/redis-server.js';

const SMOKE_SIZES: Record<string, string> = {
  BENCH_RUNS: '1',
  BENCH_WARMUPS: '0',
  BENCH_JOBS: '40',
  BENCH_CACHE_REQUESTS: '20',
  BENCH_CACHE_CONCURRENT_REQUESTS: '40',
  BENCH_CHAT_REQUESTS: '30',
  BENCH_CHAT_STREAMS: '3',
  BENCH_BATCH_LINES: '500',
  BENCH_BATCH_RUNS: '1',
  BENCH_WEBHOOK_JOBS: '40',
  BENCH_LM_LATENCY_MS: '20',
  BENCH_HTTP_DURATION_S: '1',
  BENCH_HTTP_RUNS: '1',
  BENCH_L1_ENTRIES: '200',
};
if (process.argv.includes('--smoke')) {
  for (const [name, value] of Object.entries(SMOKE_SIZES)) process.env[name] ??= value;
}

// The cases read their sizes from the environment when loaded: load them after the above.
const { runCase } = await import('./harness.js');
const { uncachedThroughput } = await import('./uncached-throughput.js');
const { redisCommandsPerPrediction } = await import('./redis-commands.js');
const { httpPeersBench } = await import('./http-peers.js');
const { cacheHitBench } = await import('./cache-hit.js');
const { batchIngestBench } = await import('./batch-ingest.js');
const { chatCompletionsBench } = await import('./chat-completions.js');
const { webhookThroughput } = await import('./webhook-throughput.js');

const redis = process.env.REDIS_BENCH_URL ? undefined : await startRedis();
const redisUrl = process.env.REDIS_BENCH_URL || redis!.url;
const lmLatencyMs = Number(process.env.BENCH_LM_LATENCY_MS ?? 100);
// `--only NAME[,NAME]`: just those groups (uncached, commands, http, cache, chat, batch, webhooks).
const onlyAt = process.argv.indexOf('--only');
const only = onlyAt >= 0 ? new Set((process.argv[onlyAt + 1] ?? '').split(',')) : undefined;
const wanted = (group: string) => !only || only.has(group);
console.log(`predictq benchmarks (Redis ${redisUrl}, node ${process.version})`);
try {
  if (wanted('uncached')) {
    await runCase(uncachedThroughput(redisUrl));
    // At an LM's real latency the per-job overhead above should vanish in the ratio.
    await runCase(uncachedThroughput(redisUrl, lmLatencyMs));
  }
  if (wanted('commands')) await redisCommandsPerPrediction(redisUrl, uncachedThroughput(redisUrl), Number(process.env.BENCH_JOBS ?? 400));
  if (wanted('http')) {
    await httpPeersBench(redisUrl, {
      connections: 60,
      durationS: Number(process.env.BENCH_HTTP_DURATION_S ?? 10),
      runs: Number(process.env.BENCH_HTTP_RUNS ?? 6),
      l1Entries: Number(process.env.BENCH_L1_ENTRIES ?? 10_000),
    });
  }
  if (wanted('cache')) await cacheHitBench(redisUrl);
  if (wanted('chat')) await chatCompletionsBench(redisUrl);
  if (wanted('batch')) await batchIngestBench(redisUrl);
  if (wanted('webhooks')) {
    // A slow webhook receiver must not slow predictions down.
    await runCase(webhookThroughput(redisUrl, 'none'));
    await runCase(webhookThroughput(redisUrl, 'instant'));
    await runCase(webhookThroughput(redisUrl, 'none', lmLatencyMs));
  }
} finally {
  await redis?.stop();
}
process.exit(0);
