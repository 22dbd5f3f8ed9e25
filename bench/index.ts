// `npm run bench`: every benchmark case, each against a baseline measured in the same run.
// Uses REDIS_BENCH_URL when set, else a private redis-server on a free port.
import { startRedis } from '../test/utils/redis-server.js';
import { runCase } from './harness.js';
import { uncachedThroughput } from './uncached-throughput.js';
import { cacheHitBench } from './cache-hit.js';
import { batchIngestBench } from './batch-ingest.js';
import { chatCompletionsBench } from './chat-completions.js';
import { webhookThroughput } from './webhook-throughput.js';

const redis = process.env.REDIS_BENCH_URL ? undefined : await startRedis();
const redisUrl = process.env.REDIS_BENCH_URL ?? redis!.url;
console.log(`predictq benchmarks (Redis ${redisUrl}, node ${process.version})`);
try {
  await runCase(uncachedThroughput(redisUrl));
  // At an LM's real latency the per-job overhead above should vanish in the ratio.
  await runCase(uncachedThroughput(redisUrl, Number(process.env.BENCH_LM_LATENCY_MS ?? 100)));
  await cacheHitBench(redisUrl);
  await chatCompletionsBench(redisUrl);
  await batchIngestBench(redisUrl);
  // A slow webhook receiver must not slow predictions down.
  await runCase(webhookThroughput(redisUrl, 'none'));
  await runCase(webhookThroughput(redisUrl, 'instant'));
  await runCase(webhookThroughput(redisUrl, 'none', Number(process.env.BENCH_LM_LATENCY_MS ?? 100)));
} finally {
  await redis?.stop();
}
process.exit(0);
