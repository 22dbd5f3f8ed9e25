// Webhook deliveries end to end: a producer and a worker process, a receiver process that
// verifies every delivery with standardwebhooks, and the compressed retry schedule.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, until } from './utils/http.js';
import { startStack, type Stack } from './utils/stack.js';
import { accepted, newWebhookSecret, startReceiver, type Receiver } from './utils/webhook-receiver.js';
import { deliveryOf, listDeliveries } from './utils/webhooks.js';

const SCHEDULE = [200, 400, 800];

describe('webhooks', () => {
  let stack: Stack;
  let receiver: Receiver;
  const secret = newWebhookSecret();

  beforeAll(async () => {
    receiver = await startReceiver([secret]);
    stack = await startStack({
      config: {
        webhooks: { allow_http: true, allow_hosts: ['127.0.0.1'], retry_delays_ms: SCHEDULE, jitter: 0, timeout_ms: 2000 },
      },
      env: { PREDICTQ_WEBHOOK_SECRET: secret },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await receiver?.stop();
  });

  const predict = (extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
    request(`${stack.url}/v1/predictions`, {
      body: { signature: 'question -> answer', inputs: { question: `q-${randomUUID()}` }, callback_url: `${receiver.url}/hook`, ...extra },
      headers,
    });

  const acceptedOnce = (id: string) =>
    until(async () => {
      const got = accepted(await receiver.deliveries(), id);
      return got.length > 0 ? got : undefined;
    });

  it('delivers prediction.succeeded, verified by the receiver, with the prediction as GET returns it', async () => {
    const res = await predict({}, { prefer: 'wait=10' });
    expect(res.status).toBe(200);
    const [delivery] = await acceptedOnce(res.body.id);
    expect(delivery!.verified).toBe(true);
    expect(delivery!.type).toBe('prediction.succeeded');
    expect(Math.abs(Number(delivery!.timestamp) - Date.now() / 1000)).toBeLessThan(30);
    const read = await request(`${stack.url}/v1/predictions/${res.body.id}`);
    expect(delivery!.body!.data).toEqual(read.body);
    expect(Date.parse(delivery!.body!.timestamp)).toBeGreaterThan(0);
    const view = await deliveryOf(stack.url, res.body.id, 'delivered');
    expect(view.event_id).toBe(delivery!.webhook_id);
    expect(view.history).toMatchObject([{ attempt: 1, outcome: 'ok', status_code: 200, error: null }]);
    // No body and no secret in the history.
    expect(JSON.stringify(view)).not.toContain(secret.slice(6));
    expect(JSON.stringify(view)).not.toContain('outputs');
  });

  it('a receiver failing the first 2 attempts gets the event exactly once it recovers, with the same webhook-id', async () => {
    await receiver.behave({ fail_first: 2, status: 503 });
    const res = await predict();
    const view = await deliveryOf(stack.url, res.body.id, 'delivered');
    const seen = (await receiver.deliveries()).filter((d) => d.object_id === res.body.id);
    expect(seen.map((d) => d.answered)).toEqual([503, 503, 200]);
    expect(new Set(seen.map((d) => d.webhook_id)).size).toBe(1);
    expect(seen.every((d) => d.verified)).toBe(true);
    expect(accepted(seen, res.body.id)).toHaveLength(1);
    expect(view.history!.map((a) => a.status_code)).toEqual([503, 503, 200]);
    // The retries follow the schedule (200 ms, then 400 ms), not sooner.
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(SCHEDULE[0]! - 20);
    expect(seen[2]!.at - seen[1]!.at).toBeGreaterThanOrEqual(SCHEDULE[1]! - 20);
    await receiver.behave({});
  });

  it('a dead receiver ends in dead-letter after the compressed schedule; a manual retry redelivers', async () => {
    await receiver.behave({ fail_first: 1000, status: 500 });
    const res = await predict();
    const dead = await deliveryOf(stack.url, res.body.id, 'dead_letter');
    expect(dead.attempts).toBe(SCHEDULE.length + 1);
    expect(dead.history!.every((a) => a.outcome === 'server_error' && a.status_code === 500)).toBe(true);
    await receiver.behave({});
    const retried = await request(`${stack.url}/v1/webhooks/deliveries/${dead.id}/retry`, { method: 'POST' });
    expect(retried.status).toBe(202);
    const [delivery] = await acceptedOnce(res.body.id);
    expect(delivery!.webhook_id).toBe(dead.event_id);
    const view = await deliveryOf(stack.url, res.body.id, 'delivered');
    expect(view.history!.at(-1)).toMatchObject({ outcome: 'ok', status_code: 200 });
  });

  it('does not retry a 4xx, and honours Retry-After on a 429', async () => {
    await receiver.behave({ fail_first: 1, status: 410 });
    const gone = await predict();
    const dead = await deliveryOf(stack.url, gone.body.id, 'dead_letter');
    expect(dead.history).toMatchObject([{ outcome: 'client_error', status_code: 410 }]);
    await receiver.behave({ fail_first: 1, status: 429, retry_after: '1' });
    const limited = await predict();
    await deliveryOf(stack.url, limited.body.id, 'delivered');
    const seen = (await receiver.deliveries()).filter((d) => d.object_id === limited.body.id);
    expect(seen.map((d) => d.answered)).toEqual([429, 200]);
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(950);
    await receiver.behave({});
  });

  it('answers a cache hit with a callback_url at once (fast path) and sends its webhook', async () => {
    const question = `cached-${randomUUID()}`;
    const first = await request(`${stack.url}/v1/predictions`, {
      body: { signature: 'question -> answer', inputs: { question } },
      headers: { prefer: 'wait=10' },
    });
    expect(first.status).toBe(200);
    const calls = stack.sim.state.stats.snapshot().requests;
    const hit = await predict({ inputs: { question } });
    expect(hit.status).toBe(200);
    expect(hit.body.cache).toEqual({ hit: true, level: 'redis' });
    const [delivery] = await acceptedOnce(hit.body.id);
    expect(delivery!.type).toBe('prediction.succeeded');
    expect(delivery!.body!.data).toEqual(hit.body);
    expect(stack.sim.state.stats.snapshot().requests).toBe(calls);
  });

  it('sends prediction.failed for a prediction that fails, and nothing for its retries', async () => {
    stack.sim.state.faults.update({ error_rate: 1, error_status: 400 });
    try {
      const res = await predict({}, { prefer: 'wait=10' });
      expect(res.body.status).toBe('failed');
      const [delivery] = await acceptedOnce(res.body.id);
      expect(delivery!.type).toBe('prediction.failed');
      expect(delivery!.body!.data).toMatchObject({ id: res.body.id, status: 'failed', error: { code: 'lm_client_error' } });
    } finally {
      stack.sim.state.faults.reset();
    }
    // An attempt that is retried (a 500) sends nothing until the prediction ends.
    stack.sim.state.faults.update({ error_rate: 1, error_status: 500 });
    const before = stack.sim.state.stats.snapshot().requests;
    const retried = await predict();
    await until(async () => stack.sim.state.stats.snapshot().requests >= before + 2);
    expect((await receiver.deliveries()).filter((d) => d.object_id === retried.body.id)).toEqual([]);
    stack.sim.state.faults.reset();
    const [delivery] = await acceptedOnce(retried.body.id);
    expect(delivery!.type).toBe('prediction.succeeded');
    expect((await receiver.deliveries()).filter((d) => d.object_id === retried.body.id)).toHaveLength(1);
  });

  it('sends one prediction.cancelled for a prediction cancelled while it runs', async () => {
    stack.sim.state.faults.update({ latency_ms: 5000 });
    try {
      const res = await predict();
      await until(async () => (await request(`${stack.url}/v1/predictions/${res.body.id}`)).body.status === 'running');
      const cancelled = await request(`${stack.url}/v1/predictions/${res.body.id}`, { method: 'DELETE' });
      expect(cancelled.body.status).toBe('cancelled');
      const [delivery] = await acceptedOnce(res.body.id);
      expect(delivery!.type).toBe('prediction.cancelled');
      // The producer and the worker both saw the cancellation: one event, delivered once.
      await until(async () => (await request(`${stack.url}/v1/predictions/${res.body.id}`)).body.status === 'cancelled');
      const events = (await listDeliveries(stack.url)).filter((d) => d.object_id === res.body.id);
      expect(events).toHaveLength(1);
      expect(accepted(await receiver.deliveries(), res.body.id)).toHaveLength(1);
    } finally {
      stack.sim.state.faults.reset();
    }
  });

  it('refuses a callback_url at submission with callback_url_not_allowed', async () => {
    for (const url of ['http://169.254.169.254/latest/meta-data/', 'http://10.0.0.1/', 'ftp://example.com/', 'http://user:pw@127.0.0.1/']) {
      const res = await predict({ callback_url: url });
      expect(res.status, url).toBe(400);
      expect(res.body.error.code).toBe('callback_url_not_allowed');
    }
  });

  it('1,000 predictions with callbacks: every event delivered once', async () => {
    await receiver.reset();
    const ids: string[] = [];
    const total = 1000;
    let next = 0;
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        while (next < total) {
          const key = `load-${next++}-${randomUUID()}`;
          // A 503 (a Redis command over the producer's fail-fast timeout on a loaded machine)
          // means nothing was queued: retried, as a client would, with the same Idempotency-Key.
          const res = await until(async () => {
            const r = await predict({ inputs: { question: key } }, { 'idempotency-key': key });
            return r.status === 503 ? undefined : r;
          });
          expect(res.status).toBe(202);
          ids.push(res.body.id);
        }
      }),
    );
    const wanted = new Set(ids);
    const seen = await until(
      async () => {
        const got = (await receiver.deliveries()).filter((d) => d.answered === 200 && wanted.has(d.object_id!));
        return got.length >= total ? got : undefined;
      },
      90_000,
      500,
    );
    expect(seen.every((d) => d.verified && d.type === 'prediction.succeeded')).toBe(true);
    expect(new Set(seen.map((d) => d.object_id)).size).toBe(total);
    expect(new Set(seen.map((d) => d.webhook_id)).size).toBe(total);
    expect((await receiver.deliveries()).filter((d) => wanted.has(d.object_id!))).toHaveLength(total);
  }, 120_000);

  it('delivers batch.completed with the batch object to a batch\'s callback_url', async () => {
    const lines = Array.from({ length: 3 }, (_, i) =>
      JSON.stringify({ custom_id: `w${i}`, method: 'POST', url: '/v1/predictions', body: { signature: 'question -> answer', inputs: { question: `batch hook ${i} ${randomUUID()}` } } }),
    );
    const form = new FormData();
    form.set('purpose', 'batch');
    form.set('file', new Blob([lines.join('\n')]), 'in.jsonl');
    const file = (await (await fetch(`${stack.url}/v1/files`, { method: 'POST', body: form })).json()) as { id: string };
    const created = await request(`${stack.url}/v1/batches`, {
      body: { input_file_id: file.id, endpoint: '/v1/predictions', completion_window: '24h', callback_url: `${receiver.url}/hook` },
    });
    expect(created.status).toBe(200);
    const [delivery] = await acceptedOnce(created.body.id);
    expect(delivery).toMatchObject({ verified: true, type: 'batch.completed' });
    expect(delivery!.body!.data).toMatchObject({ id: created.body.id, object: 'batch', status: 'completed', request_counts: { total: 3, completed: 3, failed: 0 } });
    const refused = await request(`${stack.url}/v1/batches`, {
      body: { input_file_id: file.id, endpoint: '/v1/predictions', completion_window: '24h', callback_url: 'http://169.254.169.254/latest' },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('callback_url_not_allowed');
  });
});
