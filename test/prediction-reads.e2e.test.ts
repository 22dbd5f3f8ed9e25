// Reading predictions while they finish, and the requests a client can get wrong, against a real
// stack: a read never reports a finished prediction with the wrong state, and every bad request
// gets a 4xx with its stable code (never a 500).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from './utils/http.js';
import { startStack, type Stack } from './utils/stack.js';

const KEY = 'reads-tenant-key';
const AUTH = { authorization: `Bearer ${KEY}` };

/** JSON text nested `depth` levels (objects and lists alternating), as a client would send it. */
function nestedJson(depth: number): string {
  const open = Array.from({ length: depth }, (_, i) => (i % 2 ? '[' : '{"k":')).join('');
  const close = Array.from({ length: depth }, (_, i) => (i % 2 ? ']' : '}')).reverse().join('');
  return `${open}"leaf"${close}`;
}

describe('prediction reads and bad requests', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      workers: 1,
      route: { concurrency: 16 },
      config: { tenants: [{ name: 'acme', api_key_env: 'READS_TENANT_KEY' }] },
      env: { READS_TENANT_KEY: KEY },
    });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('never reports a prediction that is finishing with the wrong state (300 fast predictions read as they finish)', async () => {
    const wrong: string[] = [];
    const check = (where: string, status: number, body: { status: string; error: unknown; outputs: unknown }) => {
      const finishedOk = body.status === 'succeeded' && body.outputs !== null && body.error === null;
      const pending = body.status === 'queued' || body.status === 'running';
      if (!(finishedOk || pending)) wrong.push(`${where}: ${status} ${JSON.stringify(body)}`);
      if (status === 200 && where === 'POST' && !finishedOk) wrong.push(`POST answered 200 but ${body.status}`);
    };
    const one = async () => {
      const created = await request(`${stack.url}/v1/predictions`, {
        body: { signature: 'question -> answer', inputs: { question: `read me ${randomUUID()}` } },
        headers: AUTH,
      });
      check('POST', created.status, created.body);
      for (;;) {
        const read = await request(`${stack.url}/v1/predictions/${created.body.id}`, { headers: AUTH });
        check('GET', read.status, read.body);
        if (read.body.status !== 'queued' && read.body.status !== 'running') return;
      }
    };
    for (let start = 0; start < 300; start += 20) await Promise.all(Array.from({ length: 20 }, one));
    expect(wrong).toEqual([]);
    // And through Prefer: wait, which reads the job right as its completion event arrives.
    const waited = await Promise.all(
      Array.from({ length: 40 }, () =>
        request(`${stack.url}/v1/predictions`, {
          body: { signature: 'question -> answer', inputs: { question: `wait for me ${randomUUID()}` } },
          headers: { ...AUTH, prefer: 'wait=20' },
        }),
      ),
    );
    expect(waited.map((r) => `${r.status} ${r.body.status}`)).toEqual(waited.map(() => '200 succeeded'));
  });

  it('answers bodies nested thousands of levels deep with 400 nesting_too_deep, wherever the nesting is', async () => {
    const deep = nestedJson(4000);
    const bodies = [
      `{"signature": "question: dict -> answer", "inputs": {"question": ${deep}}}`,
      `{"signature": "question: list -> answer", "inputs": {"question": [${deep}]}}`,
      `{"signature": "question: Any -> answer", "inputs": {"question": ${deep}}}`,
      `{"signature": "question -> answer", "inputs": {"question": "q"}, "demos": [{"question": ${deep}, "answer": "a"}]}`,
      `{"signature": "question -> answer: Any", "inputs": {"question": "q"}, "fallback": {"answer": ${deep}}}`,
    ];
    for (const rawBody of bodies) {
      expect(rawBody.length).toBeGreaterThan(15_000);
      const res = await request(`${stack.url}/v1/predictions`, { rawBody, headers: AUTH });
      expect(res.status, rawBody.slice(0, 60)).toBe(400);
      expect(res.body.error.code).toBe('nesting_too_deep');
    }
  });

  it('answers JSON that is not an object with invalid_request, not invalid_json', async () => {
    for (const rawBody of ['null', '42', '"x"', '[]', 'true']) {
      const res = await request(`${stack.url}/v1/predictions`, { rawBody, headers: AUTH });
      expect(res.status, rawBody).toBe(400);
      expect(res.body.error.code, rawBody).toBe('invalid_request');
    }
    const broken = await request(`${stack.url}/v1/predictions`, { rawBody: '{"inputs": ', headers: AUTH });
    expect(broken.body.error.code).toBe('invalid_json');
  });

  it('refuses an input named __proto__ rather than dropping it', async () => {
    const res = await request(`${stack.url}/v1/predictions`, {
      rawBody: '{"signature": "question -> answer", "inputs": {"question": "q", "__proto__": "x"}}',
      headers: AUTH,
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'invalid_request', details: { field: 'inputs.__proto__' } });
  });

  it("checks a fallback against the signature's outputs", async () => {
    const post = (fallback: unknown) =>
      request(`${stack.url}/v1/predictions`, {
        body: { signature: 'question -> answer, confidence: float', inputs: { question: `fb ${randomUUID()}` }, fallback },
        headers: AUTH,
      });
    expect((await post({ answer: 'unknown' })).body.error).toMatchObject({ code: 'invalid_request', details: { field: 'fallback.confidence' } });
    expect((await post({ answer: 'unknown', confidence: 'high' })).body.error).toMatchObject({ code: 'invalid_request' });
    expect((await post({ answer: 'unknown', confidence: 0, mood: 'calm' })).body.error).toMatchObject({ details: { field: 'fallback.mood' } });
    expect((await post({ answer: 'unknown', confidence: 0 })).status).toBe(202);
  });

  it('refuses a Prefer: wait that is not a whole number of seconds, before enqueueing anything', async () => {
    for (const prefer of ['wait=-1', 'wait=abc', 'wait=2.5']) {
      const res = await request(`${stack.url}/v1/predictions`, {
        body: { signature: 'question -> answer', inputs: { question: 'q' } },
        headers: { ...AUTH, prefer, 'idempotency-key': `prefer-${prefer}` },
      });
      expect(res.status, prefer).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
    }
  });

  it('lists models only for a valid API key when tenants are configured', async () => {
    expect((await request(`${stack.url}/v1/models`)).status).toBe(401);
    expect((await request(`${stack.url}/v1/models`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    const listed = await request(`${stack.url}/v1/models`, { headers: AUTH });
    expect(listed.status).toBe(200);
    expect(listed.body.data.map((m: { id: string }) => m.id)).toEqual(['sim-small']);
  });
});
