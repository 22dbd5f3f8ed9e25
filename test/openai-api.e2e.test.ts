// The official openai npm client, unchanged, pointed at predictq: chat completions (plain,
// tools, response_format, streaming) through the queue, models, files, and OpenAI's error
// classes. Producer and workers are separate processes, so a stream crosses processes.
import { randomUUID } from 'node:crypto';
import OpenAI, { AuthenticationError, BadRequestError, NotFoundError, RateLimitError, toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, until } from './utils/http.js';
import { startStack, type Stack } from './utils/stack.js';

const KEY = 'openai-acme-key';
const TINY_KEY = 'openai-tiny-key';

describe('the OpenAI-compatible API', () => {
  let stack: Stack;
  let client: OpenAI;
  beforeAll(async () => {
    stack = await startStack({
      workers: 3,
      route: { concurrency: 8 },
      config: {
        tenants: [
          { name: 'acme', api_key_env: 'OPENAI_ACME_KEY' },
          { name: 'tiny', api_key_env: 'OPENAI_TINY_KEY', rpm: 1 },
        ],
      },
      env: { OPENAI_ACME_KEY: KEY, OPENAI_TINY_KEY: TINY_KEY },
    });
    client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: KEY, maxRetries: 0 });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const ask = (text: string) => [{ role: 'user' as const, content: text }];
  const lastSeen = () => {
    const seen = stack.sim.state.requests.recent().at(-1)!;
    return { model: seen.model, ...seen.params };
  };

  it('answers chat.completions.create through the queue, and the same request from the cache', async () => {
    const question = ask(`What is the capital of France? ${randomUUID()}`);
    const { data, response } = await client.chat.completions.create({ model: 'sim-small', messages: question }).withResponse();
    expect(data.object).toBe('chat.completion');
    expect(data.choices[0]?.message.content).toEqual(expect.any(String));
    expect(data.system_fingerprint).toBe('fp_lm_sim');
    expect(data.usage?.total_tokens).toBeGreaterThan(0);
    expect(response.headers.get('x-predictq-cache')).toBe('miss');
    expect(Number(response.headers.get('x-predictq-cost-usd'))).toBeGreaterThan(0);
    expect(response.headers.get('x-request-id')).toEqual(expect.any(String));

    const calls = stack.sim.state.stats.snapshot().requests;
    const again = await client.chat.completions.create({ model: 'sim-small', messages: question }).withResponse();
    expect(again.data.choices[0]?.message.content).toBe(data.choices[0]?.message.content);
    expect(again.data.usage).toEqual(data.usage);
    expect(again.response.headers.get('x-predictq-cache')).toBe('redis');
    expect(again.response.headers.get('x-predictq-cost-usd')).toBe('0');
    expect(stack.sim.state.stats.snapshot().requests).toBe(calls);
  });

  it('passes tools, response_format and vendor extras to the LM unchanged', async () => {
    const tools = [{ type: 'function' as const, function: { name: 'lookup', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }];
    const called = await client.chat.completions.create({ model: 'sim-small', messages: ask(`weather? ${randomUUID()}`), tools, tool_choice: 'required', seed: 7, user: 'u-1', top_k: 3 } as never);
    const call = (called as OpenAI.ChatCompletion).choices[0]?.message.tool_calls?.[0];
    expect(call?.type === 'function' && call.function.name).toBe('lookup');
    expect(lastSeen()).toMatchObject({ model: 'sim-small', tools, tool_choice: 'required', seed: 7, user: 'u-1', top_k: 3 });
    expect(lastSeen()).not.toHaveProperty('stream', true);

    const schema = { type: 'object', properties: { capital: { type: 'string' } }, required: ['capital'] };
    const json = await client.chat.completions.create({
      model: 'sim-small',
      messages: ask(`capital as JSON ${randomUUID()}`),
      response_format: { type: 'json_schema', json_schema: { name: 'answer', schema } },
    });
    expect(typeof (JSON.parse(json.choices[0]?.message.content ?? '') as { capital: unknown }).capital).toBe('string');
    expect(lastSeen()).toMatchObject({ response_format: { type: 'json_schema', json_schema: { name: 'answer', schema } } });
  });

  it('streams with the SDK iterator: chunks arrive while the LM is still answering, usage last when asked', async () => {
    stack.sim.state.faults.update({ latency_per_token_ms: 60 });
    try {
      const messages = ask(`stream me ${randomUUID()}`);
      const stream = await client.chat.completions.create({ model: 'sim-small', messages, stream: true, stream_options: { include_usage: true } });
      let text = '';
      let inFlightAtFirstChunk = -1;
      const chunks: OpenAI.ChatCompletionChunk[] = [];
      for await (const chunk of stream) {
        const piece = chunk.choices[0]?.delta.content;
        if (piece && inFlightAtFirstChunk < 0) inFlightAtFirstChunk = stack.sim.state.stats.snapshot().in_flight;
        text += piece ?? '';
        chunks.push(chunk);
      }
      expect(inFlightAtFirstChunk).toBe(1);
      expect(text.length).toBeGreaterThan(10);
      expect(chunks.at(-1)?.usage?.total_tokens).toBeGreaterThan(0);
      expect(chunks.filter((c) => c.choices[0]?.finish_reason === 'stop')).toHaveLength(1);
      // Once complete, the streamed answer is cached.
      const { data: cached, response } = await client.chat.completions.create({ model: 'sim-small', messages }).withResponse();
      expect(response.headers.get('x-predictq-cache')).toBe('redis');
      expect(cached.choices[0]?.message.content).toBe(text);

      const plain = await client.chat.completions.create({ model: 'sim-small', messages: ask(`stream me without usage ${randomUUID()}`), stream: true });
      const seen: OpenAI.ChatCompletionChunk[] = [];
      for await (const chunk of plain) seen.push(chunk);
      expect(seen.some((c) => c.usage)).toBe(false);
      expect(seen.every((c) => c.choices.length > 0)).toBe(true);
    } finally {
      stack.sim.state.faults.update({ latency_per_token_ms: 0 });
    }
  });

  it('replays a cached answer as a stream', async () => {
    const messages = ask(`cached stream ${randomUUID()}`);
    const whole = await client.chat.completions.create({ model: 'sim-small', messages });
    const calls = stack.sim.state.stats.snapshot().requests;
    const { data: stream, response } = await client.chat.completions.create({ model: 'sim-small', messages, stream: true }).withResponse();
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe(whole.choices[0]?.message.content);
    expect(response.headers.get('x-predictq-cache')).toBe('redis');
    expect(stack.sim.state.stats.snapshot().requests).toBe(calls);
  });

  it('makes one LM call for 50 identical concurrent chat completions over 3 workers', async () => {
    stack.sim.state.faults.update({ latency_ms: 300 });
    try {
      const before = stack.sim.state.stats.snapshot().requests;
      const messages = ask(`all at once ${randomUUID()}`);
      const answers = await Promise.all(Array.from({ length: 50 }, () => client.chat.completions.create({ model: 'sim-small', messages })));
      expect(new Set(answers.map((a) => a.choices[0]?.message.content)).size).toBe(1);
      expect(stack.sim.state.stats.snapshot().requests - before).toBe(1);
    } finally {
      stack.sim.state.faults.update({ latency_ms: 0 });
    }
  });

  it('aborts the LM call when the client goes away mid-stream', async () => {
    stack.sim.state.faults.update({ latency_per_token_ms: 200 });
    try {
      const aborted = stack.sim.state.stats.snapshot().outcomes.aborted;
      const controller = new AbortController();
      const stream = await client.chat.completions.create({ model: 'sim-small', messages: ask(`leave early ${randomUUID()}`), stream: true }, { signal: controller.signal });
      await (async () => {
        for await (const chunk of stream) if (chunk.choices[0]?.delta.content) controller.abort();
      })().catch(() => undefined);
      await until(async () => stack.sim.state.stats.snapshot().outcomes.aborted > aborted, 15_000);
    } finally {
      stack.sim.state.faults.update({ latency_per_token_ms: 0 });
    }
  });

  it('lists and retrieves models, and answers an unknown model with NotFoundError model_not_found', async () => {
    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    expect(ids).toEqual(['sim-small']);
    expect(await client.models.retrieve('sim-small')).toMatchObject({ id: 'sim-small', object: 'model' });
    const missing = await client.models.retrieve('gpt-nope').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(NotFoundError);
    expect((missing as NotFoundError).code).toBe('model_not_found');
    const chat = await client.chat.completions.create({ model: 'gpt-nope', messages: ask('hi') }).catch((e: unknown) => e);
    expect(chat).toBeInstanceOf(NotFoundError);
    expect((chat as NotFoundError).code).toBe('model_not_found');
  });

  it('creates, lists, retrieves, downloads and deletes files', async () => {
    const lines = Array.from({ length: 2000 }, (_, i) => JSON.stringify({ custom_id: `r${i}`, method: 'POST', url: '/v1/chat/completions', body: { model: 'sim-small', messages: ask(`line ${i}`) } }));
    const text = `${lines.join('\n')}\n`;
    const file = await client.files.create({ file: await toFile(Buffer.from(text), 'in.jsonl'), purpose: 'batch' });
    expect(file).toMatchObject({ object: 'file', bytes: Buffer.byteLength(text), filename: 'in.jsonl', purpose: 'batch' });
    expect((await client.files.retrieve(file.id)).id).toBe(file.id);
    const listed: string[] = [];
    for await (const f of client.files.list()) listed.push(f.id);
    expect(listed).toContain(file.id);
    expect(await (await client.files.content(file.id)).text()).toBe(text);
    expect(await client.files.delete(file.id)).toMatchObject({ id: file.id, deleted: true });
    expect(await client.files.retrieve(file.id).catch((e: unknown) => e)).toBeInstanceOf(NotFoundError);
    const wrongPurpose = await client.files.create({ file: await toFile(Buffer.from('{}\n'), 'x.jsonl'), purpose: 'fine-tune' }).catch((e: unknown) => e);
    expect(wrongPurpose).toBeInstanceOf(BadRequestError);
  });

  it("raises the SDK's own error classes: 401, 400, 429 with Retry-After", async () => {
    const stranger = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'wrong', maxRetries: 0 });
    expect(await stranger.chat.completions.create({ model: 'sim-small', messages: ask('hi') }).catch((e: unknown) => e)).toBeInstanceOf(AuthenticationError);
    expect(await stranger.models.list().catch((e: unknown) => e)).toBeInstanceOf(AuthenticationError);
    const bad = await client.chat.completions.create({ model: 'sim-small', messages: [] }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(BadRequestError);
    expect((bad as BadRequestError).param).toBe('messages');

    const tiny = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: TINY_KEY, maxRetries: 0 });
    await tiny.chat.completions.create({ model: 'sim-small', messages: ask(`first ${randomUUID()}`) });
    const limited = await tiny.chat.completions.create({ model: 'sim-small', messages: ask(`second ${randomUUID()}`) }).catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(RateLimitError);
    expect(Number((limited as RateLimitError).headers?.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });

  it('keeps predictq errors on /v1/predictions in their own shape', async () => {
    const res = await request(`${stack.url}/v1/predictions`, { body: { inputs: {} }, headers: { authorization: `Bearer ${KEY}` } });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'invalid_request', message: expect.any(String) });
    expect(res.body.error).not.toHaveProperty('type');
  });
});
