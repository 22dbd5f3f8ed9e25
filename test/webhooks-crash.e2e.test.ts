// A worker killed with SIGKILL in the middle of a delivery's retries: the delivery job's lock
// expires, another worker runs it again, and the event still arrives, once, with its webhook-id.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, until } from './utils/http.js';
import { startStack, type Stack } from './utils/stack.js';
import { accepted, newWebhookSecret, startReceiver, type Receiver } from './utils/webhook-receiver.js';
import { deliveryOf } from './utils/webhooks.js';

describe('webhooks when the delivering worker dies', () => {
  let stack: Stack;
  let receiver: Receiver;
  const secret = newWebhookSecret();

  beforeAll(async () => {
    receiver = await startReceiver([secret]);
    stack = await startStack({
      config: {
        // A long attempt timeout: the hanging attempt is ended by the kill, not by the sender.
        webhooks: { allow_http: true, allow_hosts: ['127.0.0.1'], retry_delays_ms: [300, 300, 300, 300], jitter: 0, timeout_ms: 30_000 },
      },
      env: { PREDICTQ_WEBHOOK_SECRET: secret },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await receiver?.stop();
  });

  it('kill -9 of the worker mid-retry: the event is still delivered, once, with the same webhook-id', async () => {
    // Attempt 1 fails (503); attempt 2 reaches the receiver and hangs there while its worker is killed.
    await receiver.behave({ fail_first: 1, status: 503, hang_attempt: 2 });
    const res = await request(`${stack.url}/v1/predictions`, {
      body: { signature: 'question -> answer', inputs: { question: `crash-${randomUUID()}` }, callback_url: `${receiver.url}/hook` },
    });
    expect(res.status).toBe(202);
    await until(async () => (await receiver.deliveries()).some((d) => d.object_id === res.body.id && d.attempt === 2));
    const victim = stack.workers[0]!;
    expect(await victim.stop('SIGKILL')).toBeNull();
    await receiver.behave({});
    await stack.startWorker();
    const view = await deliveryOf(stack.url, res.body.id, 'delivered', 30_000);
    const seen = (await receiver.deliveries()).filter((d) => d.object_id === res.body.id);
    expect(seen.map((d) => d.answered)).toEqual([503, null, 200]);
    expect(new Set(seen.map((d) => d.webhook_id))).toEqual(new Set([view.event_id]));
    expect(accepted(seen, res.body.id)).toHaveLength(1);
    expect(seen.every((d) => d.verified)).toBe(true);
  });
});
