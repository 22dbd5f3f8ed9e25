// Async batches with the official openai client, unchanged: files.create -> batches.create ->
// batches.retrieve until done -> files.content of the output, against real processes.
import { randomUUID } from 'node:crypto';
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from './utils/http.js';
import { startStack, type Stack } from './utils/stack.js';

const chatLine = (customId: string, question: string) =>
  JSON.stringify({ custom_id: customId, method: 'POST', url: '/v1/chat/completions', body: { model: 'sim-small', messages: [{ role: 'user', content: question }] } });

async function finished(client: OpenAI, id: string, timeoutMs = 60_000): Promise<OpenAI.Batch> {
  return until(async () => {
    const batch = await client.batches.retrieve(id);
    return ['completed', 'failed', 'expired', 'cancelled'].includes(batch.status) ? batch : undefined;
  }, timeoutMs, 200);
}

async function lines(client: OpenAI, fileId: string | null | undefined): Promise<Array<Record<string, any>>> {
  if (!fileId) return [];
  const text = await (await client.files.content(fileId)).text();
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, any>);
}

describe('batches', () => {
  let stack: Stack;
  let client: OpenAI;
  beforeAll(async () => {
    stack = await startStack({ workers: 2, route: { concurrency: 16 } });
    client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('runs a 2,000-line chat batch with duplicates: one output line per input line, one LM call per distinct request', async () => {
    const tag = randomUUID();
    const distinct = 500;
    const input = Array.from({ length: 2000 }, (_, i) => chatLine(`req-${i}`, `question ${i % distinct} ${tag}`)).join('\n');
    const file = await client.files.create({ file: await toFile(Buffer.from(input), 'in.jsonl'), purpose: 'batch' });
    const before = stack.sim.state.stats.snapshot().requests;
    const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    expect(created).toMatchObject({ object: 'batch', status: 'validating', endpoint: '/v1/chat/completions' });
    const batch = await finished(client, created.id, 120_000);
    expect(batch.status).toBe('completed');
    expect(batch.request_counts).toEqual({ total: 2000, completed: 2000, failed: 0 });
    const output = await lines(client, batch.output_file_id);
    expect(output).toHaveLength(2000);
    expect(new Set(output.map((l) => l.custom_id)).size).toBe(2000);
    expect(output[0]).toMatchObject({ custom_id: 'req-0', error: null, response: { status_code: 200, body: { object: 'chat.completion' } } });
    expect(output[0]!.response.body.predictq).toMatchObject({ cost_usd: expect.any(Number), cache: expect.any(String) });
    expect(stack.sim.state.stats.snapshot().requests - before).toBe(distinct);
  });

  const upload = async (text: string) => client.files.create({ file: await toFile(Buffer.from(text), 'in.jsonl'), purpose: 'batch' });

  it('runs a prediction batch: bodies are prediction objects with cost and cache level', async () => {
    const tag = randomUUID();
    const input = Array.from({ length: 20 }, (_, i) =>
      JSON.stringify({ custom_id: `p${i}`, method: 'POST', url: '/v1/predictions', body: { signature: 'question -> answer', inputs: { question: `q${i % 10} ${tag}` } } }),
    ).join('\n');
    const batch = await finished(client, (await client.batches.create({ input_file_id: (await upload(input)).id, endpoint: '/v1/predictions' as never, completion_window: '24h' })).id);
    expect(batch.status).toBe('completed');
    const output = await lines(client, batch.output_file_id);
    expect(output.map((l) => l.custom_id)).toEqual(Array.from({ length: 20 }, (_, i) => `p${i}`));
    for (const line of output) {
      expect(line.response.body).toMatchObject({ object: 'prediction', status: 'succeeded', outputs: { answer: expect.any(String) }, cost_usd: expect.any(Number), cache: { hit: expect.any(Boolean) } });
    }
  });

  it('fails a bad file in validating with line-numbered errors, and enqueues nothing', async () => {
    const good = chatLine('ok-1', 'fine');
    const input = [
      good,
      '{not json',
      JSON.stringify({ method: 'POST', url: '/v1/chat/completions', body: { model: 'sim-small', messages: [{ role: 'user', content: 'x' }] } }),
      chatLine('ok-1', 'the same id again'),
      JSON.stringify({ custom_id: 'u', method: 'POST', url: '/v1/predictions', body: {} }),
      JSON.stringify({ custom_id: 'b', method: 'POST', url: '/v1/chat/completions', body: { model: 'sim-small', messages: [] } }),
      JSON.stringify({ custom_id: 'm', method: 'POST', url: '/v1/chat/completions', body: { model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] } }),
    ].join('\n');
    const before = stack.sim.state.stats.snapshot().requests;
    const batch = await finished(client, (await client.batches.create({ input_file_id: (await upload(input)).id, endpoint: '/v1/chat/completions', completion_window: '24h' })).id);
    expect(batch.status).toBe('failed');
    expect(batch.failed_at).toEqual(expect.any(Number));
    expect(batch.errors?.data?.map((e) => [e.line, e.code])).toEqual([
      [2, 'invalid_json_line'],
      [3, 'missing_custom_id'],
      [4, 'duplicate_custom_id'],
      [5, 'mismatched_url'],
      [6, 'invalid_request'],
      [7, 'unknown_model'],
    ]);
    expect(batch.request_counts?.total).toBe(0);
    expect(stack.sim.state.stats.snapshot().requests).toBe(before);
  });

  it('pages batches.list newest first with after and limit', async () => {
    const made = [];
    for (let i = 0; i < 3; i++) {
      made.push(await client.batches.create({ input_file_id: (await upload(chatLine(`l${i}`, `list ${randomUUID()}`))).id, endpoint: '/v1/chat/completions', completion_window: '24h' }));
    }
    const page = await client.batches.list({ limit: 2 });
    expect(page.data.map((b) => b.id)).toEqual([made[2]!.id, made[1]!.id]);
    expect(page.hasNextPage()).toBe(true);
    const next = await client.batches.list({ limit: 2, after: made[1]!.id });
    expect(next.data[0]!.id).toBe(made[0]!.id);
    const seen: string[] = [];
    for await (const b of client.batches.list({ limit: 2 })) seen.push(b.id);
    expect(seen.slice(0, 3)).toEqual([made[2]!.id, made[1]!.id, made[0]!.id]);
    for (const b of made) await finished(client, b.id);
  });

  it('cancels mid-way: waiting items are taken back, the batch ends cancelled with the partial output', async () => {
    stack.sim.state.faults.update({ latency_ms: 150 });
    try {
      const input = Array.from({ length: 200 }, (_, i) => chatLine(`c${i}`, `cancel me ${i} ${randomUUID()}`)).join('\n');
      const created = await client.batches.create({ input_file_id: (await upload(input)).id, endpoint: '/v1/chat/completions', completion_window: '24h' });
      await until(async () => ((await client.batches.retrieve(created.id)).request_counts?.completed ?? 0) >= 10, 30_000, 100);
      const cancelling = await client.batches.cancel(created.id);
      expect(['cancelling', 'cancelled']).toContain(cancelling.status);
      const batch = await finished(client, created.id);
      expect(batch.status).toBe('cancelled');
      expect(batch.cancelled_at).toEqual(expect.any(Number));
      const output = await lines(client, batch.output_file_id);
      const errors = await lines(client, batch.error_file_id);
      expect(output.length + errors.length).toBe(200);
      expect(output.length).toBeGreaterThanOrEqual(10);
      expect(output.length).toBeLessThan(200);
      expect(new Set([...output, ...errors].map((l) => l.custom_id)).size).toBe(200);
      expect(errors.every((l) => l.error?.code === 'batch_cancelled')).toBe(true);
    } finally {
      stack.sim.state.faults.update({ latency_ms: 0 });
    }
  });

  it('expires at the end of a short window: what did not run is in the error file as batch_expired', async () => {
    // Each call outlasts the window: what runs at once finishes after it, the rest never starts.
    stack.sim.state.faults.update({ latency_ms: 3000 });
    try {
      const input = Array.from({ length: 120 }, (_, i) => chatLine(`e${i}`, `expire me ${i} ${randomUUID()}`)).join('\n');
      const created = await client.batches.create({ input_file_id: (await upload(input)).id, endpoint: '/v1/chat/completions', completion_window: '2s' as '24h' });
      const batch = await finished(client, created.id);
      expect(batch.status).toBe('expired');
      expect(batch.expired_at).toEqual(expect.any(Number));
      const output = await lines(client, batch.output_file_id);
      const errors = await lines(client, batch.error_file_id);
      expect(output.length + errors.length).toBe(120);
      expect(errors.length).toBeGreaterThanOrEqual(120 - 2 * 16);
      expect(errors.every((l) => l.error?.code === 'batch_expired')).toBe(true);
    } finally {
      stack.sim.state.faults.update({ latency_ms: 0 });
    }
  });
});
