// Batches when things go wrong: a budget that runs out mid-batch, a worker killed mid-batch, a
// producer killed mid-ingest. Every input line still ends as exactly one line of the output or
// the error file.
import { randomUUID } from 'node:crypto';
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from './utils/http.js';
import { startApp, type AppProcess } from './utils/processes.js';
import { freePort } from './utils/redis-server.js';
import { startStack, type Stack } from './utils/stack.js';

const chatLine = (customId: string, question: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ custom_id: customId, method: 'POST', url: '/v1/chat/completions', body: { model: 'sim-small', messages: [{ role: 'user', content: question }], ...extra } });

async function run(client: OpenAI, input: string, window = '24h'): Promise<OpenAI.Batch> {
  const file = await client.files.create({ file: await toFile(Buffer.from(input), 'in.jsonl'), purpose: 'batch' });
  return client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: window as '24h' });
}

async function finished(client: OpenAI, id: string, timeoutMs = 120_000): Promise<OpenAI.Batch> {
  return until(async () => {
    const batch = await client.batches.retrieve(id).catch(() => undefined);
    return batch && ['completed', 'failed', 'expired', 'cancelled'].includes(batch.status) ? batch : undefined;
  }, timeoutMs, 250);
}

async function allLines(client: OpenAI, batch: OpenAI.Batch): Promise<Array<Record<string, any>>> {
  const read = async (id: string | null | undefined) =>
    id ? (await (await client.files.content(id)).text()).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, any>) : [];
  return [...(await read(batch.output_file_id)), ...(await read(batch.error_file_id))];
}

describe('a budget that runs out mid-batch', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ workers: 1, config: { budgets: { tenants: { default: { daily_usd: 0.0005 } } } } });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('fails the remaining items with budget_exceeded in the error file, and the batch still completes', async () => {
    const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const input = Array.from({ length: 80 }, (_, i) => chatLine(`b${i}`, `budget ${i} ${randomUUID()}`, { max_completion_tokens: 40 })).join('\n');
    const batch = await finished(client, (await run(client, input)).id);
    expect(batch.status).toBe('completed');
    const lines = await allLines(client, batch);
    expect(lines).toHaveLength(80);
    const refused = lines.filter((l) => l.response?.body?.error?.code === 'insufficient_quota');
    expect(refused.length).toBeGreaterThan(0);
    expect(refused[0]!.response.status_code).toBe(429);
    expect(batch.request_counts).toMatchObject({ total: 80, failed: refused.length, completed: 80 - refused.length });
  });
});

describe('processes killed mid-batch', () => {
  let stack: Stack;
  let second: AppProcess | undefined;
  beforeAll(async () => {
    stack = await startStack({ workers: 2, route: { concurrency: 32 } });
  });
  afterAll(async () => {
    await second?.stop();
    await stack?.stop();
  });

  it('loses no item when a worker is killed -9 mid-batch', async () => {
    stack.sim.state.faults.update({ latency_ms: 60 });
    try {
      const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'unused', maxRetries: 0 });
      const before = stack.sim.state.stats.snapshot().requests;
      const created = await run(client, Array.from({ length: 400 }, (_, i) => chatLine(`w${i}`, `worker kill ${i} ${randomUUID()}`)).join('\n'));
      await until(async () => ((await client.batches.retrieve(created.id)).request_counts?.completed ?? 0) >= 50, 60_000, 100);
      await stack.workers[0]!.stop('SIGKILL');
      const batch = await finished(client, created.id);
      expect(batch.status).toBe('completed');
      const lines = await allLines(client, batch);
      expect(lines).toHaveLength(400);
      expect(new Set(lines.map((l) => l.custom_id)).size).toBe(400);
      const calls = stack.sim.state.stats.snapshot().requests - before;
      // At least once: the killed worker's calls in flight are made again by the other.
      expect(calls).toBeGreaterThanOrEqual(400);
      console.log(`worker killed mid-batch: 400 items, ${calls} LM calls (${calls - 400} repeated after the kill)`);
    } finally {
      stack.sim.state.faults.update({ latency_ms: 0 });
    }
  });

  it('resumes an ingest on another producer when the one ingesting is killed -9, enqueueing nothing twice', async () => {
    const port = await freePort();
    second = startApp('producer', { ...stack.env, PORT: String(port) });
    await second.waitForLine(/producer listening/);
    const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const other = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'unused', maxRetries: 0 });
    const tag = randomUUID();
    const total = 12_000;
    const before = stack.sim.state.stats.snapshot().requests;
    const created = await run(client, Array.from({ length: total }, (_, i) => chatLine(`i${i}`, `ingest ${i % 200} ${tag}`)).join('\n'));
    await until(async () => {
      const batch = (await other.batches.retrieve(created.id)) as OpenAI.Batch & { ingested: number };
      return batch.ingested > 0 && batch.ingested < total;
    }, 60_000, 20);
    await stack.producer.stop('SIGKILL');
    const batch = await finished(other, created.id, 180_000);
    expect(batch.status).toBe('completed');
    const lines = await allLines(other, batch);
    expect(lines).toHaveLength(total);
    expect(new Set(lines.map((l) => l.custom_id)).size).toBe(total);
    expect(lines.every((l) => l.response?.status_code === 200)).toBe(true);
    // 200 distinct requests: the cache and single-flight serve the rest, resumed or not.
    expect(stack.sim.state.stats.snapshot().requests - before).toBe(200);
  });
});
