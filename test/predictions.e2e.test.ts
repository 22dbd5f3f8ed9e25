// One prediction along the whole path for real: HTTP -> producer -> BullMQ in Redis ->
// worker process -> LM simulator (openai client) -> parsed outputs -> job result -> HTTP.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, until } from './utils/http.js';
import { startStack, type Stack } from './utils/stack.js';

const SIGNATURE = 'context: list[str], question: str -> answer: str, confidence: float';
const INPUTS = { context: ['Paris is the capital of France.'], question: 'What is the capital of France?' };

describe('predictions end to end', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ workers: 1 });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('answers with parsed, typed output fields within Prefer: wait', async () => {
    const res = await request(`${stack.url}/v1/predictions`, {
      body: { signature: SIGNATURE, inputs: INPUTS },
      headers: { prefer: 'wait=20' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ object: 'prediction', status: 'succeeded', model: 'sim-small', degraded: false, error: null });
    expect(res.body.id).toMatch(/^pred_/);
    expect(typeof res.body.outputs.answer).toBe('string');
    expect(res.body.outputs.answer.length).toBeGreaterThan(0);
    expect(typeof res.body.outputs.confidence).toBe('number');
    expect(res.body.usage.prompt_tokens).toBeGreaterThan(0);
    expect(res.body.usage.total_tokens).toBe(res.body.usage.prompt_tokens + res.body.usage.completion_tokens);
    expect(res.body.cache).toEqual({ hit: false, level: null });
  });

  it('answers 202 at once without a wait, and the result can be polled', async () => {
    const res = await request(`${stack.url}/v1/predictions`, {
      body: { signature: 'question -> answer', inputs: { question: `polling ${randomUUID()}` } },
    });
    expect(res.status).toBe(202);
    expect(['queued', 'running', 'succeeded']).toContain(res.body.status);
    expect(res.headers.get('location')).toBe(`/v1/predictions/${res.body.id}`);
    const done = await until(async () => {
      const poll = await request(`${stack.url}/v1/predictions/${res.body.id}`);
      return poll.body.status === 'succeeded' ? poll.body : undefined;
    });
    expect(done.outputs.answer).toEqual(expect.any(String));
    expect(done.completed_at).toEqual(expect.any(Number));
  });

  it('returns 202 when the prediction does not finish within the wait, and never hangs past it', async () => {
    stack.sim.state.faults.update({ latency_ms: 4000 });
    try {
      const started = Date.now();
      const res = await request(`${stack.url}/v1/predictions`, {
        body: { signature: 'question -> answer', inputs: { question: `slow ${randomUUID()}` } },
        headers: { prefer: 'wait=1' },
      });
      const waited = Date.now() - started;
      expect(res.status).toBe(202);
      expect(['queued', 'running']).toContain(res.body.status);
      expect(waited).toBeGreaterThanOrEqual(900);
      expect(waited).toBeLessThan(3900);
    } finally {
      stack.sim.state.faults.update({ latency_ms: 0 });
    }
  });

  it('makes one job for one Idempotency-Key, and refuses the key with another body', async () => {
    const key = randomUUID();
    const body = { signature: 'question -> answer', inputs: { question: `idem ${key}` } };
    const first = await request(`${stack.url}/v1/predictions`, { body, headers: { 'idempotency-key': key, prefer: 'wait=20' } });
    const second = await request(`${stack.url}/v1/predictions`, { body, headers: { 'idempotency-key': key } });
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(second.body.id).toBe(first.body.id);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.body.outputs).toEqual(first.body.outputs);

    const concurrentKey = randomUUID();
    const concurrentBody = { signature: 'question -> answer', inputs: { question: `race ${concurrentKey}` } };
    const before = stack.sim.state.stats.snapshot().requests;
    const racing = await Promise.all(
      Array.from({ length: 5 }, () =>
        request(`${stack.url}/v1/predictions`, { body: concurrentBody, headers: { 'idempotency-key': concurrentKey, prefer: 'wait=20' } }),
      ),
    );
    expect(new Set(racing.map((r) => r.body.id)).size).toBe(1);
    expect(racing.every((r) => r.body.status === 'succeeded')).toBe(true);
    expect(stack.sim.state.stats.snapshot().requests - before).toBe(1);

    const conflict = await request(`${stack.url}/v1/predictions`, {
      body: { ...body, inputs: { question: 'something else' } },
      headers: { 'idempotency-key': key },
    });
    expect(conflict.status).toBe(409);
    expect(conflict.body.error.code).toBe('conflict');
  });

  it('echoes X-Request-Id and carries it into producer and worker logs', async () => {
    const requestId = `req-${randomUUID()}`;
    const res = await request(`${stack.url}/v1/predictions`, {
      body: { signature: 'question -> answer', inputs: { question: `trace ${requestId}` } },
      headers: { prefer: 'wait=20', 'x-request-id': requestId },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe(requestId);
    expect(res.body.request_id).toBe(requestId);
    await until(async () => stack.producer.lines.some((l) => l.includes(requestId)));
    await until(async () => stack.workers[0]!.lines.some((l) => l.includes(requestId) && l.includes('"prediction"')));

    const generated = await request(`${stack.url}/health`);
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('guards /admin with the admin key and reports queue counts', async () => {
    const anonymous = await request(`${stack.url}/admin/stats`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.code).toBe('unauthorized');
    const board = await fetch(`${stack.url}/admin/queues`, { headers: { authorization: 'Bearer test-admin-key' } });
    expect(board.status).toBe(200);
    const stats = await request(`${stack.url}/admin/stats`, { headers: { authorization: 'Bearer test-admin-key' } });
    expect(stats.status).toBe(200);
    expect(stats.body.queues['predict.default']).toMatchObject({ waiting: expect.any(Number), completed: expect.any(Number) });
  });

  describe('bad input gets a 4xx with its own code', () => {
    const cases: Array<[string, { rawBody?: string; body?: unknown }, number, string]> = [
      ['invalid JSON', { rawBody: '{"signature": "q -> a", ' }, 400, 'invalid_json'],
      ['missing inputs', { body: { signature: 'question -> answer' } }, 400, 'invalid_request'],
      ['a malformed signature', { body: { signature: 'question answer', inputs: { question: 'x' } } }, 400, 'invalid_signature'],
      ['an input of the wrong type', { body: { signature: 'n: int -> answer', inputs: { n: 'seven' } } }, 400, 'invalid_input'],
      ['a missing input field', { body: { signature: 'question -> answer', inputs: {} } }, 400, 'invalid_input'],
      ['an unknown model', { body: { signature: 'q -> a', inputs: { q: 'x' }, model: 'no-such-model' } }, 400, 'unknown_model'],
      ['an unknown program', { body: { program: 'nope', inputs: { q: 'x' } } }, 404, 'unknown_program'],
      ['an unknown field', { body: { signature: 'q -> a', inputs: { q: 'x' }, colour: 'red' } }, 400, 'invalid_request'],
      ['an oversized body', { rawBody: JSON.stringify({ signature: 'q -> a', inputs: { q: 'x'.repeat(2 * 1024 * 1024) } }) }, 413, 'payload_too_large'],
    ];
    for (const [name, init, status, code] of cases) {
      it(`${name} -> ${status} ${code}`, async () => {
        const res = await request(`${stack.url}/v1/predictions`, init);
        expect(res.status).toBe(status);
        expect(res.body.error.code).toBe(code);
        expect(res.body.error.message).toEqual(expect.any(String));
        expect(JSON.stringify(res.body)).not.toMatch(/\bat .+\.(ts|js):\d+/);
      });
    }

    it('an unknown prediction id -> 404 not_found', async () => {
      const res = await request(`${stack.url}/v1/predictions/pred_doesnotexist`);
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('not_found');
    });
  });
});

describe('cancel', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ workers: 0 });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('cancels a queued prediction, which then never reaches the LM', async () => {
    const created = await request(`${stack.url}/v1/predictions`, {
      body: { signature: 'question -> answer', inputs: { question: 'cancel me' } },
    });
    expect(created.status).toBe(202);
    expect(created.body.status).toBe('queued');
    const cancelled = await request(`${stack.url}/v1/predictions/${created.body.id}`, { method: 'DELETE' });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
    expect(cancelled.body.error.code).toBe('cancelled');
    const read = await request(`${stack.url}/v1/predictions/${created.body.id}`);
    expect(read.body.status).toBe('cancelled');

    // A worker that starts now finds nothing to run for it.
    const other = await request(`${stack.url}/v1/predictions`, {
      body: { signature: 'question -> answer', inputs: { question: 'keep me' } },
    });
    await stack.startWorker();
    await until(async () => (await request(`${stack.url}/v1/predictions/${other.body.id}`)).body.status === 'succeeded');
    expect(stack.sim.state.stats.snapshot().requests).toBe(1);

    const again = await request(`${stack.url}/v1/predictions/${other.body.id}`, { method: 'DELETE' });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('conflict');
  });
});

describe('a worker killed mid-job', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ workers: 1 });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('loses nothing: another worker picks the job up and completes it', async () => {
    stack.sim.state.faults.update({ latency_ms: 60_000 });
    const created = await request(`${stack.url}/v1/predictions`, {
      body: { signature: 'question -> answer', inputs: { question: 'survive a SIGKILL' } },
    });
    await until(async () => (await request(`${stack.url}/v1/predictions/${created.body.id}`)).body.status === 'running');
    await until(async () => stack.sim.state.stats.snapshot().requests >= 1);
    await stack.workers[0]!.stop('SIGKILL');
    stack.sim.state.faults.update({ latency_ms: 0 });
    await stack.startWorker();
    const done = await until(async () => {
      const res = await request(`${stack.url}/v1/predictions/${created.body.id}`);
      return res.body.status === 'succeeded' ? res.body : undefined;
    }, 30_000);
    expect(done.outputs.answer).toEqual(expect.any(String));
  });
});
