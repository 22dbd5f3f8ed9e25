// The SSRF guard through a real producer and worker: refusals at submission (400
// callback_url_not_allowed) and at connect time, where a name that resolved to a public address
// when it was submitted resolves to loopback when the worker connects (DNS rebinding). Names
// resolve through a DNS server the test runs (webhooks.dns_servers). No worker runs while any
// name resolves to a non-loopback address, so nothing is ever sent anywhere but this machine.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDnsServer, type DnsServer } from './utils/dns-server.js';
import { request, until } from './utils/http.js';
import { startStack, type Stack } from './utils/stack.js';
import { accepted, newWebhookSecret, startReceiver, type Receiver } from './utils/webhook-receiver.js';
import { deliveryOf } from './utils/webhooks.js';

const FORBIDDEN = [
  'http://127.0.0.1/hook',
  'http://2130706433/hook', // decimal
  'http://0177.0.0.1/hook', // octal
  'http://0x7f.0.0.1/hook', // hex
  'http://127.1/hook',
  'http://10.0.0.1/hook',
  'http://172.16.0.1/hook',
  'http://172.31.255.255/hook',
  'http://192.168.0.1/hook',
  'http://169.254.169.254/latest/meta-data/',
  'http://100.64.0.1/hook',
  'http://[::1]/hook',
  'http://[fd00::1]/hook',
  'http://[fe80::1]/hook',
  'http://[::ffff:127.0.0.1]/hook',
  'http://[::ffff:a00:1]/hook',
  'http://loopback.test/hook', // resolves to 127.0.0.1
  'http://private.test/hook', // resolves to 10.0.0.1
  'http://nowhere.test/hook', // does not resolve
  'http://user:secret@receiver.test/hook',
  'ftp://receiver.test/hook',
];

describe('webhooks SSRF guard', () => {
  let dns: DnsServer;
  let stack: Stack;
  let receiver: Receiver;
  const secret = newWebhookSecret();

  beforeAll(async () => {
    dns = await startDnsServer();
    dns.set('receiver.test', ['127.0.0.1']);
    dns.set('loopback.test', ['127.0.0.1']);
    dns.set('private.test', ['10.0.0.1']);
    receiver = await startReceiver([secret]);
    stack = await startStack({
      workers: 0,
      config: {
        webhooks: { allow_http: true, allow_hosts: ['receiver.test'], dns_servers: [dns.address], retry_delays_ms: [200], jitter: 0, timeout_ms: 2000 },
      },
      env: { PREDICTQ_WEBHOOK_SECRET: secret },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await receiver?.stop();
    await dns?.close();
  });

  const predict = (callbackUrl: string) =>
    request(`${stack.url}/v1/predictions`, {
      body: { signature: 'question -> answer', inputs: { question: `ssrf-${randomUUID()}` }, callback_url: callbackUrl },
    });

  it('refuses at submission: private, loopback, link-local, metadata, CGNAT, IPv6 and IPv4-mapped forms, names resolving there', async () => {
    for (const url of FORBIDDEN) {
      const res = await predict(url);
      expect(res.status, url).toBe(400);
      expect(res.body.error.code, url).toBe('callback_url_not_allowed');
    }
  });

  it('refuses at connect time a name that resolves to loopback after it was accepted (DNS rebinding)', async () => {
    const port = new URL(receiver.url).port;
    dns.set('rebind4.test', ['93.184.215.14']);
    dns.set('rebind6.test', ['2606:2800:21f:cb07:6820:80da:af6b:8b2c']);
    dns.set('rebindmapped.test', ['2606:2800:21f:cb07:6820:80da:af6b:8b2c']);
    const ids: string[] = [];
    for (const name of ['rebind4', 'rebind6', 'rebindmapped']) {
      const res = await predict(`http://${name}.test:${port}/hook`);
      expect(res.status, name).toBe(202);
      ids.push(res.body.id);
    }
    // Only now, with every name pointing at this machine, may a worker run.
    dns.set('rebind4.test', ['127.0.0.1']);
    dns.set('rebind6.test', ['::1']);
    dns.set('rebindmapped.test', ['::ffff:127.0.0.1']);
    await stack.startWorker();
    for (const id of ids) {
      const dead = await deliveryOf(stack.url, id, 'dead_letter');
      expect(dead.history).toMatchObject([{ outcome: 'refused', status_code: null }]);
    }
    expect((await receiver.deliveries()).filter((d) => ids.includes(d.object_id!))).toEqual([]);
  });

  it('delivers to an allow-listed name; a cancelled queued prediction sends prediction.cancelled', async () => {
    await Promise.all(stack.workers.map((w) => w.stop()));
    const res = await predict(`${receiver.url.replace('127.0.0.1', 'receiver.test')}/hook`);
    expect(res.status).toBe(202);
    const cancelled = await request(`${stack.url}/v1/predictions/${res.body.id}`, { method: 'DELETE' });
    expect(cancelled.body.status).toBe('cancelled');
    await stack.startWorker();
    const [delivery] = await until(async () => {
      const got = accepted(await receiver.deliveries(), res.body.id);
      return got.length ? got : undefined;
    });
    expect(delivery!.type).toBe('prediction.cancelled');
    expect(delivery!.body!.data).toEqual(cancelled.body);
  });
});
