// Saved DSPy programs end to end, with real producer and worker processes: a file DSPy 3.x
// wrote with program.save() (a ChainOfThought with demos) is uploaded and served, and the LM
// receives exactly DSPy's rendering; versions are immutable, pinned, rolled back, and keyed
// apart in the cache; a ChatAdapter reply without markers is asked again as JSON, and both
// calls are paid for and counted.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RAG_INPUTS, RAG_MESSAGES, RAG_SIGNATURE } from './fixtures/dspy-rag-cot.expected.js';
import { request } from './utils/http.js';
import { ROOT, workerMetrics } from './utils/processes.js';
import { startStack, type Stack } from './utils/stack.js';

const ADMIN = { authorization: 'Bearer test-admin-key' };
const FILE = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'dspy-rag-cot.program.json'), 'utf8')) as Record<string, any>;

describe('saved DSPy programs', () => {
  let stack: Stack;
  const upload = (name: string, body: unknown, query = '') =>
    request(`${stack.url}/admin/programs/${name}${query}`, { method: 'PUT', body, headers: ADMIN });
  const predict = (body: Record<string, unknown>) => request(`${stack.url}/v1/predictions`, { body, headers: { prefer: 'wait=20' } });
  const lastRequests = (n: number) => stack.sim.state.requests.recent().slice(-n);

  beforeAll(async () => {
    stack = await startStack({ config: { program_store: { max_bytes: 20_000, refresh_ms: 100 } } });
  });
  afterAll(async () => {
    await stack?.stop();
  });
  beforeEach(() => {
    stack.sim.state.faults.reset();
  });

  it('serves an uploaded DSPy 3.x ChainOfThought program: the LM receives DSPy\'s rendering', async () => {
    const query = `?signature=${encodeURIComponent(RAG_SIGNATURE)}`;
    const created = await upload('rag', FILE, query);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'rag', version: '1', live: true, module: 'ChainOfThought', adapter: 'chat', demos: 2, dspy_version: '3.0.3' });
    // The same file again is the same version.
    expect((await upload('rag', FILE, query)).body).toMatchObject({ version: '1' });

    const res = await predict({ program: 'rag', inputs: RAG_INPUTS });
    expect(res.body).toMatchObject({ status: 'succeeded', program: 'rag', program_version: '1' });
    expect(Object.keys(res.body.outputs)).toEqual(['reasoning', 'answer']);
    const [sent] = lastRequests(1);
    expect(sent?.messages).toEqual(RAG_MESSAGES);
    expect(sent?.params.response_format).toBeUndefined();
  });

  it('keeps versions immutable: a pinned version, new cache keys, rollback and roll forward', async () => {
    const v2 = structuredClone(FILE);
    v2['respond.predict'].signature.instructions = 'Answer in one word.';
    const stored = await upload('rag', v2, '?live=false');
    expect(stored.status).toBe(201);
    expect(stored.body).toMatchObject({ version: '2', live: false, live_version: '1' });

    const calls = () => stack.sim.state.stats.snapshot().requests;
    const before = calls();
    const pinned = await predict({ program: 'rag@2', inputs: RAG_INPUTS });
    expect(pinned.body).toMatchObject({ status: 'succeeded', program: 'rag', program_version: '2', cache: { hit: false } });
    expect(calls() - before).toBe(1);
    expect(lastRequests(1)[0]?.messages[0]?.content).toMatch(/your objective is: \n {8}Answer in one word\.$/);
    const live = await predict({ program: 'rag', inputs: RAG_INPUTS });
    expect(live.body).toMatchObject({ program_version: '1', cache: { hit: true } });

    expect((await request(`${stack.url}/admin/programs/rag/rollback`, { body: { version: '2' }, headers: ADMIN })).body).toMatchObject({
      live_version: '2',
      previous_version: '1',
    });
    // The producer trusts its copy of the live pointer for refresh_ms (100 ms here).
    await new Promise((r) => setTimeout(r, 150));
    expect((await predict({ program: 'rag', inputs: RAG_INPUTS })).body).toMatchObject({ program_version: '2', cache: { hit: true } });
    expect((await request(`${stack.url}/admin/programs/rag/rollback`, { method: 'POST', headers: ADMIN })).body).toMatchObject({ live_version: '1' });

    const described = await request(`${stack.url}/admin/programs/rag`, { headers: ADMIN });
    expect(described.body).toMatchObject({ name: 'rag', live_version: '1', previous_version: '2', latest_version: '2' });
    expect(described.body.versions.map((v: { version: string; live: boolean }) => [v.version, v.live])).toEqual([['1', true], ['2', false]]);
    expect((await request(`${stack.url}/admin/programs`, { headers: ADMIN })).body.data).toEqual([
      { name: 'rag', live_version: '1', latest_version: '2', versions: 2 },
    ]);
  });

  it('refuses what it cannot serve with stable codes', async () => {
    expect((await predict({ program: 'rag@9', inputs: RAG_INPUTS })).body.error.code).toBe('unknown_program');
    expect((await upload('other', FILE)).body.error.code).toBe('invalid_request'); // no signature
    expect((await upload('other', FILE, '?signature=question%20-%3E%20answer')).body.error.code).toBe('invalid_request'); // does not fit
    const two = { retrieve: FILE['respond.predict'], answer: FILE['respond.predict'] };
    const multi = await upload('other', two, `?signature=${encodeURIComponent(RAG_SIGNATURE)}`);
    expect(multi.status).toBe(400);
    expect(multi.body.error.message).toMatch(/only single-predictor programs are supported/);
    let deep: unknown = 1;
    for (let i = 0; i < 40; i++) deep = [deep];
    expect((await upload('other', { self: { demos: [], signature: { instructions: 'x' } }, deep })).body.error.code).toBe('nesting_too_deep');
    const big = await request(`${stack.url}/admin/programs/other`, { method: 'PUT', rawBody: JSON.stringify({ pad: 'x'.repeat(30_000) }), headers: ADMIN });
    expect([big.status, big.body.error.code]).toEqual([413, 'payload_too_large']);
    expect((await request(`${stack.url}/admin/programs/rag`, { method: 'PUT', body: FILE })).body.error.code).toBe('unauthorized');
    expect((await request(`${stack.url}/admin/programs/nope`, { headers: ADMIN })).body.error.code).toBe('not_found');
  });

  it('asks again in JSONAdapter format when the reply lacks ChatAdapter markers, paying for both calls', async () => {
    stack.sim.state.faults.update({ unformatted_rate: 1 });
    const inputs = { context: ['Only passage.'], question: `fallback ${Date.now()}` };
    const res = await predict({ program: 'rag', inputs });
    expect(res.body, JSON.stringify(res.body.error)).toMatchObject({ status: 'succeeded', program_version: '1' });
    expect(typeof res.body.outputs.answer).toBe('string');
    const [chat, json] = lastRequests(2);
    expect(chat?.messages[0]?.content).toContain('[[ ## answer ## ]]\n{answer}');
    expect(json?.params.response_format).toEqual({ type: 'json_object' });
    expect(json?.messages[0]?.content).toContain('Outputs will be a JSON object with the following fields.\n\n{\n  "reasoning": "{reasoning}",\n  "answer": "{answer}"\n}');
    expect(json?.messages.at(-1)?.content).toMatch(/Respond with a JSON object in the following order of fields: `reasoning`, then `answer`\.$/);
    // Both calls were settled: the prediction's usage is their sum, and the ledger counts two.
    const served = stack.sim.state.stats.snapshot().by_model['sim-small']!;
    expect(served.unformatted).toBeGreaterThan(0);
    const usage = await request(`${stack.url}/admin/usage?group_by=model`, { headers: ADMIN });
    const day = usage.body.groups.find((g: { key: string }) => g.key === 'sim-small');
    expect(day.requests).toBe(served.ok);
    expect(day.prompt_tokens).toBe(served.prompt_tokens);
    expect(await workerMetrics(stack.workers[0]!)).toMatch(/^dspy_adapter_fallbacks_total\{route="default"\} 1$/m);
  });
});
