// leanFetch against a real HTTP server: it must answer as the global fetch does for everything
// the openai client relies on (status, headers, a JSON body, a server-sent event stream, aborts,
// connection failures), and refuse redirects.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leanFetch } from './lean-fetch.js';

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

describe('leanFetch', () => {
  let server: Server;
  let base: string;
  const routes = new Map<string, Handler>();
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        const handler = routes.get(req.url ?? '');
        if (handler) handler(req, body, res);
        else res.writeHead(404).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('sends method, headers and body, and answers with status, headers and the JSON body', async () => {
    routes.set('/echo', (req, body, res) => {
      res.setHeader('content-type', 'application/json');
      res.setHeader('x-request-id', 'r-1');
      res.setHeader('set-cookie', ['a=1', 'b=2']);
      res.writeHead(201).end(JSON.stringify({ method: req.method, auth: req.headers.authorization, body: JSON.parse(body) }));
    });
    const res = await leanFetch(`${base}/echo`, {
      method: 'POST',
      headers: new Headers({ authorization: 'Bearer k', 'content-type': 'application/json' }),
      body: JSON.stringify({ q: 'hi' }),
    });
    expect(res.status).toBe(201);
    expect(res.ok).toBe(true);
    expect(res.headers.get('x-request-id')).toBe('r-1');
    expect(res.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(await res.json()).toEqual({ method: 'POST', auth: 'Bearer k', body: { q: 'hi' } });
  });

  it('reads an answer read whole as a Response reads: once, by any method, or as a stream', async () => {
    routes.set('/json', (_req, _body, res) => res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":{"message":"bad"}}'));
    const get = () => leanFetch(`${base}/json`, { method: 'POST', body: '{}' });

    const first = await get();
    expect(first).toBeInstanceOf(Response);
    expect(first.bodyUsed).toBe(false);
    expect(await first.text()).toBe('{"error":{"message":"bad"}}');
    expect(first.bodyUsed).toBe(true);
    await expect(first.json()).rejects.toThrow(TypeError);
    expect(() => first.clone()).toThrow(TypeError);
    expect(first.body).toBeInstanceOf(ReadableStream);
    await expect(first.arrayBuffer()).rejects.toThrow(TypeError);
    expect(first.bodyUsed).toBe(true);

    const copy = (await get()).clone();
    expect(await copy.json()).toEqual({ error: { message: 'bad' } });
    expect(new TextDecoder().decode(await (await get()).arrayBuffer())).toBe('{"error":{"message":"bad"}}');
    expect(await (await get()).blob().then((b) => b.text())).toBe('{"error":{"message":"bad"}}');

    // A body stream taken but not read leaves the body to whoever reads it next.
    const streamed = await get();
    expect(streamed.body).toBeInstanceOf(ReadableStream);
    expect(streamed.bodyUsed).toBe(false);
    expect(await streamed.json()).toEqual({ error: { message: 'bad' } });
    expect(streamed.bodyUsed).toBe(true);
  });

  it('passes a server-sent event stream on as it arrives', async () => {
    let finish: () => void = () => {};
    routes.set('/events', (_req, _body, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: one\n\n');
      finish = () => res.end('data: two\n\n');
    });
    const res = await leanFetch(`${base}/events`, { method: 'POST', body: '{}' });
    const reader = res.body!.getReader();
    // The first event is readable while the server still holds the response open.
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toBe('data: one\n\n');
    finish();
    let rest = '';
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) rest += new TextDecoder().decode(chunk.value);
    expect(rest).toBe('data: two\n\n');
  });

  it('closes the connection when the reader cancels an event stream', async () => {
    let closed: () => void = () => {};
    const serverSawClose = new Promise<void>((resolve) => (closed = resolve));
    routes.set('/endless', (_req, _body, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: one\n\n');
      res.once('close', closed);
    });
    const res = await leanFetch(`${base}/endless`, { method: 'POST', body: '{}' });
    const reader = res.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('data: one\n\n');
    await reader.cancel();
    await serverSawClose;
  });

  it('gives a bodiless status a null body', async () => {
    routes.set('/empty', (_req, _body, res) => res.writeHead(204).end());
    const res = await leanFetch(`${base}/empty`, { method: 'DELETE' });
    expect(res.status).toBe(204);
    expect(res.body).toBeNull();
  });

  it('refuses a redirect as fetch does with redirect: "error"', async () => {
    let followed = false;
    routes.set('/moved', (_req, _body, res) => res.writeHead(308, { location: `${base}/target` }).end());
    routes.set('/target', (_req, _body, res) => ((followed = true), res.end('{}')));
    const err = await leanFetch(`${base}/moved`, { method: 'POST', body: '{}' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect(((err as TypeError).cause as Error).message).toBe('unexpected redirect');
    expect(followed).toBe(false);
  });

  it("rejects with the signal's reason when aborted, whether waiting for headers or for the body", async () => {
    routes.set('/hang', () => {});
    routes.set('/slow-body', (_req, _body, res) => res.writeHead(200, { 'content-type': 'application/json' }).write('{"partial":'));
    for (const path of ['/hang', '/slow-body']) {
      const controller = new AbortController();
      const reason = new Error(`stop ${path}`);
      setTimeout(() => controller.abort(reason), 50);
      await expect(leanFetch(`${base}${path}`, { method: 'POST', body: '{}', signal: controller.signal })).rejects.toBe(reason);
    }
  });

  it('reports a refused connection as a TypeError, as fetch does', async () => {
    const err = await leanFetch('http://127.0.0.1:1/v1/chat/completions', { method: 'POST', body: '{}' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect((err as TypeError).message).toBe('fetch failed');
  });
});
