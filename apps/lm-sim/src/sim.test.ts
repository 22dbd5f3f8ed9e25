// Drives the simulator over HTTP with the real OpenAI SDK, the way workers and benchmarks use it.
import { decode, encode, encodeChat } from 'gpt-tokenizer';
import OpenAI, { APIConnectionTimeoutError, APIError } from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_FAULTS, startSim, type FaultsPatch, type RunningSim, type SimStatsSnapshot } from './index.js';

let sim: RunningSim;
let client: OpenAI;
let simRoot: string;

beforeAll(async () => {
  sim = await startSim({ seed: 7 });
  client = new OpenAI({ baseURL: sim.url, apiKey: 'sim', maxRetries: 0 });
  simRoot = sim.url.replace(/\/v1$/, '');
});

afterAll(async () => {
  await sim.close();
});

beforeEach(async () => {
  await fetch(`${simRoot}/sim/reset`, { method: 'POST' });
});

async function stats(): Promise<SimStatsSnapshot> {
  return (await (await fetch(`${simRoot}/sim/stats`)).json()) as SimStatsSnapshot;
}

async function setFaults(patch: FaultsPatch): Promise<Response> {
  return fetch(`${simRoot}/sim/faults`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(patch),
  });
}

async function failure(promise: Promise<unknown>): Promise<APIError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof APIError)) throw new Error(`expected an APIError, got ${String(error)}`);
  return error;
}

const ask = (content: string, extra: Partial<OpenAI.ChatCompletionCreateParamsNonStreaming> = {}) =>
  client.chat.completions.create({ model: 'sim-small', messages: [{ role: 'user', content }], ...extra });

// A prompt exactly as DSPy's ChatAdapter formats `question, context -> reasoning, answer, ...`.
const DSPY_SYSTEM = `Your input fields are:
1. \`question\` (str): The question to answer.
2. \`context\` (list[str]): Retrieved passages.
Your output fields are:
1. \`reasoning\` (str)
2. \`answer\` (str): A short factoid answer.
3. \`confidence\` (float): How sure the answer is, 0 to 1.
4. \`year\` (int)
5. \`verified\` (bool)
6. \`keywords\` (list[str])
7. \`scores\` (dict[str, float])
8. \`sentiment\` (Literal['positive', 'negative', 'neutral']): Tone of the question.
All interactions will be structured in the following way, with the appropriate values filled in.

[[ ## question ## ]]
{question}

[[ ## context ## ]]
{context}

[[ ## reasoning ## ]]
{reasoning}

[[ ## answer ## ]]
{answer}

[[ ## confidence ## ]]
{confidence}        # note: the value you produce must be a single float value

[[ ## year ## ]]
{year}        # note: the value you produce must be a single int value

[[ ## verified ## ]]
{verified}        # note: the value you produce must be True or False

[[ ## keywords ## ]]
{keywords}        # note: the value you produce must adhere to the JSON schema: {"type": "array", "items": {"type": "string"}}

[[ ## scores ## ]]
{scores}        # note: the value you produce must adhere to the JSON schema: {"type": "object", "additionalProperties": {"type": "number"}}

[[ ## sentiment ## ]]
{sentiment}        # note: the value you produce must exactly match (no extra characters) one of: positive; negative; neutral

[[ ## completed ## ]]
In adhering to this structure, your objective is: 
        Answer the question using the context.`;

const DSPY_USER = `[[ ## question ## ]]
When was the Eiffel Tower completed?

[[ ## context ## ]]
[1] «The Eiffel Tower was completed in 1889.»
[2] «It is in Paris.»

Respond with the corresponding output fields, starting with the field \`[[ ## reasoning ## ]]\`, then \`[[ ## answer ## ]]\`, then \`[[ ## confidence ## ]]\` (must be formatted as a valid Python float), then \`[[ ## year ## ]]\` (must be formatted as a valid Python int), then \`[[ ## verified ## ]]\` (must be formatted as a valid Python bool), then \`[[ ## keywords ## ]]\` (must be formatted as a valid Python list[str]), then \`[[ ## scores ## ]]\` (must be formatted as a valid Python dict[str, float]), then \`[[ ## sentiment ## ]]\` (must be formatted as a valid Python Literal['positive', 'negative', 'neutral']), and then ending with the marker for \`[[ ## completed ## ]]\`.`;

/** Splits a reply into sections the way DSPy's ChatAdapter.parse does. */
function sections(reply: string): Map<string, string> {
  const out = new Map<string, string>();
  let current: string | undefined;
  let lines: string[] = [];
  const flush = (): void => {
    if (current !== undefined) out.set(current, lines.join('\n').trim());
  };
  for (const line of reply.split('\n')) {
    const header = /^\[\[ ## (\w+) ## \]\]/.exec(line.trim());
    if (header) {
      flush();
      current = header[1];
      lines = [];
    } else {
      lines.push(line);
    }
  }
  flush();
  return out;
}

describe('chat completions', () => {
  it('gives the same reply to the same request and a different one to a different request', async () => {
    const first = await ask('What is the boiling point of water?', { temperature: 0.2 });
    const again = await ask('What is the boiling point of water?', { temperature: 0.2 });
    const other = await ask('What is the freezing point of water?', { temperature: 0.2 });
    const content = first.choices[0]?.message.content;
    expect(content).toBeTruthy();
    expect(again.choices[0]?.message.content).toBe(content);
    expect(other.choices[0]?.message.content).not.toBe(content);
    expect(first.id).toMatch(/^chatcmpl-/);
    expect(again.id).not.toBe(first.id);
  });

  it('answers in the OpenAI response shape with an x-request-id header', async () => {
    const { data, response } = await ask('Shape check').withResponse();
    expect(response.headers.get('x-request-id')).toBeTruthy();
    expect(data).toMatchObject({
      object: 'chat.completion',
      model: 'sim-small',
      choices: [{ index: 0, message: { role: 'assistant' }, finish_reason: 'stop', logprobs: null }],
      usage: { prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0 } },
    });
    expect(typeof data.created).toBe('number');
  });

  it('answers any model name', async () => {
    const reply = await client.chat.completions.create({
      model: 'some-model-nobody-configured',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(reply.model).toBe('some-model-nobody-configured');
  });

  it('answers a DSPy ChatAdapter prompt with every output field, typed, in order', async () => {
    const reply = await client.chat.completions.create({
      model: 'sim-large',
      messages: [
        { role: 'system', content: DSPY_SYSTEM },
        { role: 'user', content: DSPY_USER },
      ],
    });
    const content = reply.choices[0]?.message.content ?? '';
    const parsed = sections(content);
    const names = ['reasoning', 'answer', 'confidence', 'year', 'verified', 'keywords', 'scores', 'sentiment', 'completed'];
    expect([...parsed.keys()]).toEqual(names);
    expect(content.trimEnd().endsWith('[[ ## completed ## ]]')).toBe(true);

    expect(parsed.get('reasoning')).toMatch(/\w+ \w+/);
    expect(parsed.get('answer')).toContain('Eiffel Tower');
    expect(parsed.get('confidence')).toMatch(/^\d*\.\d+$/);
    expect(parsed.get('year')).toMatch(/^-?\d+$/);
    expect(parsed.get('verified')).toMatch(/^(True|False)$/);
    const keywords = JSON.parse(parsed.get('keywords') ?? '') as unknown;
    expect(Array.isArray(keywords) && keywords.length > 0 && keywords.every((k) => typeof k === 'string')).toBe(true);
    const scores = JSON.parse(parsed.get('scores') ?? '') as Record<string, unknown>;
    expect(Object.keys(scores).length).toBeGreaterThan(0);
    expect(Object.values(scores).every((v) => typeof v === 'number')).toBe(true);
    expect(['positive', 'negative', 'neutral']).toContain(parsed.get('sentiment'));
    expect(parsed.get('completed')).toBe('');
  });

  it('counts usage with gpt-tokenizer', async () => {
    const messages = [
      { role: 'system' as const, content: 'You are terse.' },
      { role: 'user' as const, content: 'Count the tokens in this prompt, please.' },
    ];
    const reply = await client.chat.completions.create({ model: 'sim-small', messages });
    const content = reply.choices[0]?.message.content ?? '';
    expect(reply.usage?.prompt_tokens).toBe(encodeChat(messages, 'gpt-4o').length);
    expect(reply.usage?.completion_tokens).toBe(encode(content).length);
    expect(reply.usage?.total_tokens).toBe((reply.usage?.prompt_tokens ?? 0) + (reply.usage?.completion_tokens ?? 0));
  });

  it('answers a 300 KB prompt of one repeated character', { timeout: 5000 }, async () => {
    // gpt-tokenizer alone spends ~40 s counting this prompt, blocking every other request.
    const reply = await ask('a'.repeat(300_000), { max_tokens: 20 });
    expect(reply.choices[0]?.message.content).toBeTruthy();
    expect(reply.usage?.prompt_tokens).toBeGreaterThan(300_000 / 16);
  });

  it('truncates to max_tokens with finish_reason length, keeping the start of the full reply', async () => {
    const full = await ask('Tell me about truncation in detail');
    const fullContent = full.choices[0]?.message.content ?? '';
    expect(encode(fullContent).length).toBeGreaterThan(5);

    const cut = await ask('Tell me about truncation in detail', { max_tokens: 5 });
    expect(cut.choices[0]?.finish_reason).toBe('length');
    expect(cut.usage?.completion_tokens).toBe(5);
    expect(cut.choices[0]?.message.content).toBe(decode(encode(fullContent).slice(0, 5)));

    const roomy = await ask('Tell me about truncation in detail', { max_completion_tokens: 4096 });
    expect(roomy.choices[0]?.finish_reason).toBe('stop');
    expect(roomy.choices[0]?.message.content).toBe(fullContent);
  });

  it('rejects a request without messages with OpenAI-style 400s', async () => {
    const missing = await failure(client.chat.completions.create({ model: 'sim-small' } as never));
    expect(missing.status).toBe(400);
    expect(missing.type).toBe('invalid_request_error');
    expect(missing.param).toBe('messages');

    const noModel = await fetch(`${sim.url}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(noModel.status).toBe(400);
    expect(((await noModel.json()) as { error: { param: string } }).error.param).toBe('model');

    const broken = await fetch(`${sim.url}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{not json',
    });
    expect(broken.status).toBe(400);
    expect(((await broken.json()) as { error: { code: string } }).error.code).toBe('invalid_json');

    expect((await stats()).outcomes.bad_request).toBe(3);
  });
});

describe('models and unknown routes', () => {
  it('lists the default models in the OpenAI list shape', async () => {
    const ids: string[] = [];
    for await (const model of client.models.list()) {
      expect(model).toMatchObject({ object: 'model', owned_by: 'lm-sim' });
      ids.push(model.id);
    }
    expect(ids).toEqual(expect.arrayContaining(['sim-small', 'sim-large', 'gpt-4o-mini']));
  });

  it('answers unknown routes with a JSON 404', async () => {
    const response = await fetch(`${simRoot}/nowhere`);
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('unknown_url');
  });
});

describe('stats', () => {
  it('counts every request, its outcome and its model', async () => {
    await ask('one');
    await ask('two');
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'three' }] });
    await failure(client.chat.completions.create({ model: 'sim-small', messages: [] }));
    const s = await stats();
    expect(s.requests).toBe(4);
    expect(s.outcomes).toMatchObject({ ok: 3, bad_request: 1, error: 0 });
    expect(s.by_model['sim-small']).toMatchObject({ requests: 3, ok: 2 });
    expect(s.by_model['gpt-4o-mini']).toMatchObject({ requests: 1, ok: 1 });
    expect(s.max_rps_1s).toBeGreaterThanOrEqual(1);
    expect(s.in_flight).toBe(0);
    expect(s.tokens.completion).toBeGreaterThan(0);
  });

  it('is cleared by POST /sim/reset, together with the faults', async () => {
    await setFaults({ error_rate: 1 });
    await failure(ask('fails'));
    expect((await stats()).requests).toBe(1);

    await fetch(`${simRoot}/sim/reset`, { method: 'POST' });
    const s = await stats();
    expect(s.requests).toBe(0);
    expect(s.max_rps_1s).toBe(0);
    const faults = (await (await fetch(`${simRoot}/sim/faults`)).json()) as Record<string, unknown>;
    expect(faults).toEqual({ ...DEFAULT_FAULTS, seed: 7 });
    await expect(ask('works again')).resolves.toBeDefined();
  });
});

describe('faults', () => {
  it('fails every request with 503 during an outage', async () => {
    const put = await setFaults({ outage: true });
    expect(((await put.json()) as { outage: boolean }).outage).toBe(true);
    const error = await failure(ask('anyone there?'));
    expect(error.status).toBe(503);
    expect(error.type).toBe('server_error');
    expect((await stats()).outcomes.outage).toBe(1);

    await setFaults({ outage_status: 502 });
    expect((await failure(ask('still down?'))).status).toBe(502);
  });

  it('answers 429 with retry-after headers at rate_limit_rate 1', async () => {
    await setFaults({ rate_limit_rate: 1, retry_after_s: 2 });
    const error = await failure(ask('too fast'));
    expect(error.status).toBe(429);
    expect(error.code).toBe('rate_limit_exceeded');
    expect(error.headers?.get('retry-after')).toBe('2');
    expect(error.headers?.get('retry-after-ms')).toBe('2000');
    expect((await stats()).outcomes.rate_limited).toBe(1);
  });

  it('answers error_status at error_rate 1', async () => {
    await setFaults({ error_rate: 1, error_status: 500 });
    const error = await failure(ask('break'));
    expect(error.status).toBe(500);
    expect(error.type).toBe('server_error');
    expect(error.requestID).toBeTruthy();
    expect((await stats()).outcomes.error).toBe(1);
  });

  it('hangs until the client times out, then forgets the request', async () => {
    await setFaults({ hang_rate: 1 });
    const impatient = new OpenAI({ baseURL: sim.url, apiKey: 'sim', maxRetries: 0, timeout: 300 });
    await expect(
      impatient.chat.completions.create({ model: 'sim-small', messages: [{ role: 'user', content: 'hello?' }] }),
    ).rejects.toBeInstanceOf(APIConnectionTimeoutError);
    await vi.waitFor(async () => expect((await stats()).in_flight).toBe(0), { timeout: 5_000 });
    const s = await stats();
    expect(s.outcomes).toMatchObject({ hang: 1, ok: 0 });
  });

  it('repeats the same fault sequence for the same seed', async () => {
    const run = async (): Promise<number[]> => {
      await setFaults({ error_rate: 0.5, error_status: 500, seed: 42 });
      const statuses: number[] = [];
      for (let i = 0; i < 16; i += 1) {
        statuses.push(await ask(`roll ${i}`).then(() => 200, (e: unknown) => (e instanceof APIError ? (e.status ?? 0) : 0)));
      }
      return statuses;
    };
    const first = await run();
    expect(first).toContain(200);
    expect(first).toContain(500);
    expect(await run()).toEqual(first);
  });

  it('rejects invalid fault settings', async () => {
    expect((await setFaults({ error_rate: 2 })).status).toBe(400);
    expect((await setFaults({ errorRate: 0.5 } as FaultsPatch)).status).toBe(400);
    expect((await setFaults({ error_status: 200 })).status).toBe(400);
  });
});

describe('latency', () => {
  it('waits at least x-sim-latency-ms for one request', async () => {
    const slowStart = performance.now();
    await client.chat.completions.create(
      { model: 'sim-small', messages: [{ role: 'user', content: 'slow please' }] },
      { headers: { 'x-sim-latency-ms': '300' } },
    );
    expect(performance.now() - slowStart).toBeGreaterThanOrEqual(250);
  });

  it('applies the base latency set through faults', async () => {
    await setFaults({ latency_ms: 200 });
    const started = performance.now();
    await ask('base latency');
    expect(performance.now() - started).toBeGreaterThanOrEqual(150);
  });

  it('stops waiting when the client aborts and does not count the request as served', async () => {
    const controller = new AbortController();
    const pending = client.chat.completions.create(
      { model: 'sim-small', messages: [{ role: 'user', content: 'never mind' }] },
      { headers: { 'x-sim-latency-ms': '60000' }, signal: controller.signal },
    );
    await vi.waitFor(async () => expect((await stats()).in_flight).toBe(1));
    controller.abort();
    await expect(pending).rejects.toThrow();
    await vi.waitFor(async () => expect((await stats()).in_flight).toBe(0), { timeout: 5_000 });
    expect((await stats()).outcomes).toMatchObject({ ok: 0, aborted: 1 });
  });

  it('rejects a malformed x-sim-latency-ms header', async () => {
    const error = await failure(
      client.chat.completions.create(
        { model: 'sim-small', messages: [{ role: 'user', content: 'hi' }] },
        { headers: { 'x-sim-latency-ms': 'soon' } },
      ),
    );
    expect(error.status).toBe(400);
    expect(error.param).toBe('x-sim-latency-ms');
  });
});

describe('streaming, tools and response formats', () => {
  const ask = [{ role: 'user' as const, content: 'What is the capital of France?' }];

  it('streams the same answer in chunks, with usage when asked, readable by the SDK', async () => {
    const plain = await client.chat.completions.create({ model: 'sim-small', messages: ask });
    const stream = await client.chat.completions.create({ model: 'sim-small', messages: ask, stream: true, stream_options: { include_usage: true } });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.length).toBeGreaterThan(3);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe(plain.choices[0]?.message.content);
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('stop');
    expect(chunks.at(-1)?.usage).toEqual(plain.usage);
    expect((await stats()).requests).toBe(2);
  });

  it('sends chunks before the answer is done, and counts a client that leaves mid-stream as aborted', async () => {
    await setFaults({ latency_per_token_ms: 150 });
    const controller = new AbortController();
    const started = Date.now();
    const stream = await client.chat.completions.create({ model: 'sim-small', messages: ask, stream: true }, { signal: controller.signal });
    let firstAt = 0;
    let seen = 0;
    // The SDK ends the iteration (or throws) once aborted; either way no more chunks come.
    await (async () => {
      for await (const chunk of stream) {
        if (chunk.choices[0]?.delta.content) {
          firstAt ||= Date.now() - started;
          if (++seen === 2) controller.abort();
        }
      }
    })().catch(() => undefined);
    expect(seen).toBe(2);
    expect(firstAt).toBeLessThan(150 * 5);
    await vi.waitFor(async () => expect((await stats()).outcomes.aborted).toBe(1));
  });

  it('calls an offered tool with arguments that fit its schema, and answers JSON for a json_schema format', async () => {
    const tools = [
      {
        type: 'function' as const,
        function: {
          name: 'get_weather',
          parameters: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer', minimum: 1 }, unit: { enum: ['c', 'f'] } }, required: ['city'] },
        },
      },
    ];
    const called = await client.chat.completions.create({ model: 'sim-small', messages: ask, tools });
    const call = called.choices[0]?.message.tool_calls?.[0];
    expect(called.choices[0]?.finish_reason).toBe('tool_calls');
    expect(call?.type === 'function' && call.function.name).toBe('get_weather');
    const args = JSON.parse(call?.type === 'function' ? call.function.arguments : '{}') as Record<string, unknown>;
    expect(typeof args.city).toBe('string');
    expect(args.days).toBeGreaterThanOrEqual(1);
    expect(['c', 'f']).toContain(args.unit);
    const none = await client.chat.completions.create({ model: 'sim-small', messages: ask, tools, tool_choice: 'none' });
    expect(none.choices[0]?.message.tool_calls).toBeUndefined();

    const schema = { type: 'object', properties: { capital: { type: 'string' }, population: { type: 'number' } }, required: ['capital', 'population'] };
    const json = await client.chat.completions.create({
      model: 'sim-small',
      messages: ask,
      response_format: { type: 'json_schema', json_schema: { name: 'city', schema } },
    });
    const parsed = JSON.parse(json.choices[0]?.message.content ?? '') as Record<string, unknown>;
    expect(typeof parsed.capital).toBe('string');
    expect(typeof parsed.population).toBe('number');
  });

  it('shows the bodies it received, extra fields included, at GET /sim/requests', async () => {
    await client.chat.completions.create({ model: 'sim-small', messages: ask, top_k: 5 } as never);
    const recent = (await (await fetch(`${simRoot}/sim/requests`)).json()) as { data: Array<Record<string, unknown>> };
    expect(recent.data.at(-1)).toMatchObject({ model: 'sim-small', params: { top_k: 5 } });
  });
});

describe('faults by model and answer shapes', () => {
  const dspy = (model: string, question: string) =>
    client.chat.completions.create({
      model,
      messages: [
        { role: 'system', content: DSPY_SYSTEM },
        { role: 'user', content: DSPY_USER.replace('What is the capital of France?', question) },
      ],
    });

  it('fails only the model whose error_rate is set', async () => {
    expect((await setFaults({ by_model: { 'sim-large': { error_rate: 1, error_status: 502 } } })).status).toBe(200);
    expect((await failure(dspy('sim-large', 'q'))).status).toBe(502);
    expect((await dspy('sim-small', 'q')).choices[0]?.message.content).toMatch(/\[\[ ## completed ## \]\]$/);
  });

  it('answers without markers at unformatted_rate, and logs what it was sent', async () => {
    await setFaults({ unformatted_rate: 1 });
    const reply = (await dspy('sim-small', 'q')).choices[0]?.message.content ?? '';
    expect(reply).not.toContain('[[ ##');
    const logged = (await (await fetch(`${simRoot}/sim/requests`)).json()) as { data: Array<{ model: string; messages: unknown[] }> };
    expect(logged.data.at(-1)).toMatchObject({ model: 'sim-small', messages: [{ role: 'system', content: DSPY_SYSTEM }, { role: 'user' }] });
    expect((await stats()).by_model['sim-small']).toMatchObject({ unformatted: 1 });
  });

  it('with shared_answers, two models agree except at the divergence and variation rates', async () => {
    await setFaults({ shared_answers: true, by_model: { 'sim-large': { divergence_rate: 0.3, variation_rate: 0.2 } } });
    let same = 0;
    let normalizedSame = 0;
    const n = 60;
    for (let i = 0; i < n; i++) {
      const [a, b] = await Promise.all([dspy('sim-small', `question ${i}`), dspy('sim-large', `question ${i}`)]);
      const left = sections(a.choices[0]?.message.content ?? '').get('answer') ?? '';
      const right = sections(b.choices[0]?.message.content ?? '').get('answer') ?? '';
      if (left === right) same++;
      if (left.toLowerCase().replace(/\s+/g, ' ') === right.toLowerCase().replace(/\s+/g, ' ')) normalizedSame++;
    }
    const large = (await stats()).by_model['sim-large']!;
    expect(large.diverged + large.varied).toBeGreaterThan(0);
    expect(same).toBe(n - large.diverged - large.varied);
    expect(normalizedSame).toBe(n - large.diverged);
  });
});
