// The pipeline end to end with a fake LM and a fake clock (no Redis): one outcome per run,
// emitted once, decided from the job's deadline and attempts.
import { describe, expect, it } from 'vitest';
import { ConfigSchema } from '../config/index.js';
import { LmError } from '../errors/index.js';
import type { LmCaller, LmRequest } from '../lm/index.js';
import type { PredictionJobData } from '../queue/index.js';
import { PipelineEvents, type OutcomeEvent } from './events.js';
import { PredictionPipeline } from './prediction-pipeline.js';

const config = ConfigSchema.parse({
  routes: [{ name: 'default', model: 'sim-small', base_url: 'http://127.0.0.1:1/v1' }],
  queue: { deadline_s: 60 },
});
const ANSWER = '[[ ## answer ## ]]\nParis\n\n[[ ## completed ## ]]';

function data(overrides: Partial<PredictionJobData> = {}): PredictionJobData {
  return {
    v: 1, tenant: 'default', request_id: 'r', program: null, program_version: null, module: 'Predict',
    signature: 'question -> answer', demos: [], inputs: { question: 'capital of France?' }, route: 'default',
    model: 'sim-small', params: {}, cache: 'default', priority: 'interactive', variant: null, created_at: 0, ...overrides,
  };
}

function pipeline(chat: (request: LmRequest) => Promise<string>, clock = { now: () => 1_000 }) {
  const lm: LmCaller = {
    chat: async (request) => ({
      text: await chat(request), finishReason: 'stop', model: 'sim-small', headers: {},
      usage: { prompt_tokens: 10, completion_tokens: 2, total_tokens: 12, cached_tokens: 0, reasoning_tokens: 0 },
    }),
  };
  const events = new PipelineEvents();
  const seen: OutcomeEvent[] = [];
  events.on('prediction:outcome', (e) => seen.push(e));
  return { run: new PredictionPipeline({ config, lmFor: () => lm, clock, events }), seen };
}

const job = { jobId: 'j1', enqueuedAt: 0, lastAttempt: false };

describe('PredictionPipeline', () => {
  it('answers ok with parsed outputs, emitting the outcome once', async () => {
    const { run, seen } = pipeline(async () => ANSWER);
    const outcome = await run.run(data(), job);
    expect(outcome).toMatchObject({ kind: 'ok', result: { outputs: { answer: 'Paris' }, usage: { total_tokens: 12 } } });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ jobId: 'j1', outcome });
  });

  it('fails job data it cannot read with invalid_request, and deep job data too', async () => {
    const { run, seen } = pipeline(async () => ANSWER);
    expect(await run.run({ v: 2 }, job)).toMatchObject({ kind: 'fail', error: { code: 'invalid_request' } });
    let deep: unknown = 'x';
    for (let i = 0; i < 5000; i++) deep = [deep];
    expect(await run.run(data({ inputs: { question: deep } }), job)).toMatchObject({ kind: 'fail', error: { code: 'invalid_request' } });
    expect(seen[0]!.data).toBeUndefined();
  });

  it('fails a job that starts after its deadline without calling the LM', async () => {
    let calls = 0;
    const { run } = pipeline(async () => (calls++, ANSWER), { now: () => 61_000 });
    expect(await run.run(data(), job)).toMatchObject({ kind: 'fail', error: { code: 'deadline_exceeded' } });
    expect(await run.run(data({ deadline_at: 70_000 }), job)).toMatchObject({ kind: 'ok' });
    expect(calls).toBe(1);
  });

  it('retries an upstream error while attempts remain, and fails an unparseable reply at once', async () => {
    const { run } = pipeline(async () => {
      throw new LmError('lm_upstream_error', '502');
    });
    expect(await run.run(data(), job)).toMatchObject({ kind: 'retry', error: { code: 'lm_upstream_error' } });
    expect(await run.run(data(), { ...job, lastAttempt: true })).toMatchObject({ kind: 'fail', error: { code: 'lm_upstream_error' } });
    const garbled = pipeline(async () => 'no sections here');
    expect(await garbled.run.run(data(), job)).toMatchObject({ kind: 'fail', error: { code: 'unparseable_reply' } });
  });

  it('asks again in JSONAdapter format when a ChatAdapter reply does not parse, adding up both calls', async () => {
    const asked: LmRequest[] = [];
    const { run } = pipeline(async (request) => {
      asked.push(request);
      return asked.length === 1 ? 'Paris, of course.' : '{"answer": "Paris"}';
    });
    const fallbacks: unknown[] = [];
    run.events.on('adapter:fallback', (e) => fallbacks.push(e));
    const outcome = await run.run(data(), job);
    expect(outcome).toMatchObject({ kind: 'ok', result: { outputs: { answer: 'Paris' }, usage: { prompt_tokens: 20, total_tokens: 24 } } });
    expect(asked).toHaveLength(2);
    expect(asked[0]!.params.response_format).toBeUndefined();
    expect(asked[1]!.params).toMatchObject({ response_format: { type: 'json_object' }, max_tokens: 1024 });
    expect(asked[1]!.messages.at(-1)?.content).toMatch(/Respond with a JSON object in the following order of fields: `answer`\.$/);
    expect(fallbacks).toEqual([{ route: 'default', model: 'sim-small' }]);
  });

  it('fails with unparseable_reply when the JSON retry does not parse either, and never retries a json program', async () => {
    let calls = 0;
    const { run } = pipeline(async () => (calls++, 'no fields here'));
    expect(await run.run(data(), job)).toMatchObject({ kind: 'fail', error: { code: 'unparseable_reply' } });
    expect(calls).toBe(2);
    calls = 0;
    expect(await run.run(data({ adapter: 'json' }), job)).toMatchObject({ kind: 'fail', error: { code: 'unparseable_reply' } });
    expect(calls).toBe(1);
  });
});
