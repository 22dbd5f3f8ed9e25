// The SSRF guard at submission (CallbackGuard.check) and at connect time (WebhookSender through
// request-filtering-agent). No packet may leave for a forbidden address even if the guard were
// broken: every socket connect is watched, and one to a non-loopback literal is stopped.
import { createServer, request, type Server } from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { WebhookSettingsSchema } from '../config/index.js';
import { CallbackGuard, CallbackRefusedError, addressProblem } from './callback-guard.js';
import { WebhookSender } from './webhook-sender.js';

const FORBIDDEN = [
  ['loopback', 'https://127.0.0.1/hook'],
  ['loopback, short form', 'https://127.1/hook'],
  ['loopback, decimal', 'https://2130706433/hook'],
  ['loopback, octal', 'https://0177.0.0.1/hook'],
  ['loopback, hex', 'https://0x7f000001/hook'],
  ['10/8', 'https://10.1.2.3/hook'],
  ['172.16/12', 'https://172.16.0.1/hook'],
  ['172.16/12, top', 'https://172.31.255.254/hook'],
  ['192.168/16', 'https://192.168.1.1/hook'],
  ['cloud metadata', 'https://169.254.169.254/latest/meta-data/'],
  ['link-local', 'https://169.254.1.1/'],
  ['CGNAT', 'https://100.64.0.1/'],
  ['unspecified', 'https://0.0.0.0/'],
  ['multicast', 'https://224.0.0.1/'],
  ['IPv6 loopback', 'https://[::1]/hook'],
  ['IPv6 unique-local', 'https://[fd00::1]/hook'],
  ['IPv6 link-local', 'https://[fe80::1]/hook'],
  ['IPv4-mapped IPv6', 'https://[::ffff:127.0.0.1]/hook'],
  ['IPv4-mapped IPv6, hex', 'https://[::ffff:7f00:1]/hook'],
  ['IPv4-mapped private', 'https://[::ffff:10.0.0.1]/hook'],
] as const;

const settings = (over: Record<string, unknown> = {}) => WebhookSettingsSchema.parse(over);

describe('CallbackGuard at submission', () => {
  const guard = new CallbackGuard(settings());
  afterAll(() => guard.close());

  for (const [what, url] of FORBIDDEN) {
    it(`refuses ${what} (${url})`, async () => {
      const err = await guard.check(url).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CallbackRefusedError);
      expect((err as CallbackRefusedError).code).toBe('callback_url_not_allowed');
      expect((err as CallbackRefusedError).reason).toBe('address');
    });
  }

  it('refuses a name that resolves to a loopback address', async () => {
    const err = (await guard.check('https://localhost/hook').catch((e: unknown) => e)) as CallbackRefusedError;
    expect(err.code).toBe('callback_url_not_allowed');
    expect(err.details?.range).toBe('loopback');
  });

  it('refuses http unless configured, credentials, and names that do not resolve', async () => {
    expect(((await guard.check('http://93.184.215.14/').catch((e: unknown) => e)) as CallbackRefusedError).reason).toBe('scheme');
    expect(((await guard.check('https://user:pw@93.184.215.14/').catch((e: unknown) => e)) as CallbackRefusedError).reason).toBe('credentials');
    expect(((await guard.check('https://no-such-host.invalid/').catch((e: unknown) => e)) as CallbackRefusedError).reason).toBe('unresolvable');
    const http = new CallbackGuard(settings({ allow_http: true }));
    await expect(http.check('http://93.184.215.14/')).resolves.toBeDefined();
    http.close();
  });

  it('accepts a public address, and a private one only for an allow-listed host; metadata never', async () => {
    await expect(guard.check('https://93.184.215.14/hook')).resolves.toBeDefined();
    const allowing = new CallbackGuard(settings({ allow_hosts: ['localhost', '127.0.0.1', '169.254.169.254'] }));
    await expect(allowing.check('https://localhost:8443/hook')).resolves.toMatchObject({ allowListed: true });
    await expect(allowing.check('https://127.0.0.1/hook')).resolves.toMatchObject({ allowListed: true });
    // Names are compared after URL parsing: a private name's other spellings are not on the list.
    await expect(allowing.check('https://127.0.0.2/hook')).rejects.toMatchObject({ reason: 'address' });
    await expect(allowing.check('https://169.254.169.254/')).rejects.toMatchObject({ details: { range: 'metadata' } });
    allowing.close();
    expect(addressProblem('8.8.8.8')).toBeUndefined();
    expect(addressProblem('fd00:ec2::254', true)).toBe('metadata');
  });
});

describe('CallbackGuard at connect time', () => {
  let server: Server;
  let port: number;
  let received = 0;
  const connects: string[] = [];
  const realConnect = net.Socket.prototype.connect;

  beforeAll(async () => {
    server = createServer((req, res) => {
      received++;
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    // Any connect to a literal other than loopback is stopped here, whatever the guard does.
    vi.spyOn(net.Socket.prototype, 'connect').mockImplementation(function (this: net.Socket, ...args: unknown[]) {
      const options = args[0] as { host?: string } | undefined;
      const host = typeof options === 'object' && options ? options.host ?? '' : '';
      connects.push(host);
      if (net.isIP(host) && !['127.0.0.1', '::1'].includes(host)) throw new Error(`test: refused to connect to ${host}`);
      return (realConnect as (...a: unknown[]) => net.Socket).apply(this, args);
    });
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await new Promise((resolve) => server.close(resolve));
  });

  const sender = (over: Record<string, unknown>) => {
    const guard = new CallbackGuard(settings({ allow_http: true, ...over }));
    return { guard, sender: new WebhookSender({ guard, timeoutMs: 2000, clock: { now: () => Date.now() } }) };
  };

  it('refuses every forbidden literal before a socket connects', async () => {
    const { guard, sender: s } = sender({});
    for (const [, url] of FORBIDDEN) {
      const result = await s.send({ url: url.replace('https:', 'http:'), headers: {}, body: '{}' });
      expect(result.outcome, url).toBe('refused');
      expect(result.retryable).toBe(false);
    }
    expect(connects).toEqual([]);
    guard.close();
  });

  it("refuses at the socket's own lookup: request-filtering-agent, and a name that resolves to loopback", async () => {
    const { guard } = sender({});
    // The agent alone (as a socket sees it, without the URL check before it).
    const agent = guard.agentFor({ url: new URL('http://10.0.0.1/'), allowListed: false });
    const refusal = await new Promise<Error>((resolve) => {
      const req = request('http://10.0.0.1/', { agent });
      req.on('error', resolve);
      req.end();
    });
    expect(refusal.message).toMatch(/is not allowed/);
    const { sender: s } = sender({});
    const result = await s.send({ url: `http://localhost:${port}/hook`, headers: {}, body: '{}' });
    expect(result).toMatchObject({ outcome: 'refused', retryable: false });
    expect(received).toBe(0);
    guard.close();
  });

  it('delivers to an allow-listed host', async () => {
    const { guard, sender: s } = sender({ allow_hosts: ['localhost'] });
    const result = await s.send({ url: `http://localhost:${port}/hook`, headers: {}, body: '{}' });
    expect(result).toMatchObject({ outcome: 'ok', statusCode: 200 });
    expect(received).toBe(1);
    guard.close();
  });
});
