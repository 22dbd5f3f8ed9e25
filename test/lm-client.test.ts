// The LM wrapper against a real HTTP server speaking the OpenAI protocol: every failure
// becomes an error with a stable code, and the client's own retries are off.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LmClient, LmError, type PredictqError } from '@predictq/core';
import { startSim } from '@predictq/lm-sim';
import { freePort } from './utils/redis-server.js';

describe('LmClient', () => {
  let sim: Awaited<ReturnType<typeof startSim>>;
  let client: LmClient;
  const messages = [{ role: 'user' as const, content: 'hello' }];

  beforeAll(async () => {
    sim = await startSim({});
    client = new LmClient({ baseURL: sim.url, apiKey: 'sim', model: 'sim-small', timeoutMs: 500 });
    // The simulator loads its tokenizer on its first request, which can take longer than the
    // 500 ms the timeout test needs on a busy machine: pay that once here, with a long timeout.
    await new LmClient({ baseURL: sim.url, apiKey: 'sim', model: 'sim-small', timeoutMs: 30_000 }).chat({ messages, params: {} });
  });
  afterAll(async () => {
    await sim.close();
  });
  beforeEach(() => {
    sim.state.reset();
  });

  async function failure(promise: Promise<unknown>): Promise<PredictqError> {
    try {
      await promise;
    } catch (err) {
      return err as PredictqError;
    }
    throw new Error('expected the call to fail');
  }

  it('returns text, finish reason, usage and headers', async () => {
    const res = await client.chat({ messages, params: { max_tokens: 100 }, requestId: 'r-1' });
    expect(res.text.length).toBeGreaterThan(0);
    expect(res.finishReason).toBe('stop');
    expect(res.usage.total_tokens).toBe(res.usage.prompt_tokens + res.usage.completion_tokens);
    expect(res.headers['x-request-id']).toEqual(expect.any(String));
  });

  it('classifies upstream 5xx, 429 with retry-after, client 4xx, timeouts and refused connections', async () => {
    sim.state.faults.update({ error_rate: 1, error_status: 500 });
    const upstream = await failure(client.chat({ messages, params: {} }));
    expect(upstream.code).toBe('lm_upstream_error');
    expect((upstream as LmError).isUpstreamFailure).toBe(true);
    expect(sim.state.stats.snapshot().requests).toBe(1); // no hidden client retries

    sim.state.faults.update({ error_rate: 0, rate_limit_rate: 1, retry_after_s: 2 });
    const limited = await failure(client.chat({ messages, params: {} }));
    expect(limited.code).toBe('lm_rate_limited');
    expect((limited as LmError).retryAfterMs).toBeGreaterThanOrEqual(1000);
    expect((limited as LmError).isUpstreamFailure).toBe(false);

    sim.state.faults.update({ rate_limit_rate: 0, error_rate: 1, error_status: 400 });
    const rejected = await failure(client.chat({ messages, params: {} }));
    expect(rejected.code).toBe('lm_client_error');
    expect((rejected as LmError).retryable).toBe(false);

    sim.state.faults.update({ error_rate: 0, hang_rate: 1 });
    const hung = await failure(client.chat({ messages, params: {} }));
    expect(hung.code).toBe('lm_timeout');

    const nowhere = new LmClient({ baseURL: `http://127.0.0.1:${await freePort()}/v1`, apiKey: 'x', model: 'm', timeoutMs: 500 });
    expect((await failure(nowhere.chat({ messages, params: {} }))).code).toBe('lm_connection_error');
  });

  it('does not follow a redirect: the call fails naming it, and the target never hears of it', async () => {
    let targetHits = 0;
    const target = createServer((_req, res) => (targetHits++, res.end())).listen(0, '127.0.0.1');
    const redirecting = createServer((_req, res) => {
      res.writeHead(308, { location: `http://127.0.0.1:${(target.address() as AddressInfo).port}/v1/chat/completions` });
      res.end();
    }).listen(0, '127.0.0.1');
    try {
      await Promise.all([target, redirecting].map((s) => new Promise((r) => (s.listening ? r(null) : s.once('listening', r)))));
      const moved = new LmClient({ baseURL: `http://127.0.0.1:${(redirecting.address() as AddressInfo).port}/v1`, apiKey: 'k', model: 'm', timeoutMs: 2000 });
      const err = await failure(moved.chat({ messages, params: {} }));
      expect(err.code).toBe('lm_connection_error');
      expect(err.message).toMatch(/redirect/);
      expect(targetHits).toBe(0);
    } finally {
      target.close();
      redirecting.close();
    }
  });

  it('reports an aborted call as cancelled', async () => {
    sim.state.faults.update({ latency_ms: 5000 });
    const controller = new AbortController();
    const call = client.chat({ messages, params: {}, signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    expect((await failure(call)).code).toBe('cancelled');
  });
});
