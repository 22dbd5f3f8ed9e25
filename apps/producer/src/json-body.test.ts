import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PredictqError } from '@predictq/core';
import { readJsonBody } from './json-body.js';

const LIMIT = 1000;
let server: Server;
let url: string;

beforeAll(async () => {
  // Echoes what readJsonBody made of the request: the value, or the error's code.
  server = createServer((req, res) => {
    const strict = req.url === '/strict';
    readJsonBody(req, { limitBytes: LIMIT, strict }).then(
      (body) => res.end(JSON.stringify({ body: body === undefined ? '<none>' : body })),
      (err: unknown) => res.end(JSON.stringify({ code: err instanceof PredictqError ? err.code : String(err) })),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function send(body: string | Buffer, headers: Record<string, string> = {}, path = '/'): Promise<unknown> {
  const res = await fetch(url + path, { method: 'POST', headers, body });
  return res.json();
}

describe('readJsonBody', () => {
  it('parses JSON whatever the Content-Type says (curl -d sends a form type)', async () => {
    expect(await send('{"a":1}', { 'content-type': 'application/x-www-form-urlencoded' })).toEqual({ body: { a: 1 } });
  });

  it('reads no body as undefined and an empty one as {}', async () => {
    // fetch sends Content-Length: 0 for an empty POST; a GET carries no body at all.
    expect(await (await fetch(url)).json()).toEqual({ body: '<none>' });
    expect(await send('')).toEqual({ body: {} });
  });

  it('answers invalid_json for a body that does not parse, and for a scalar when strict', async () => {
    expect(await send('{"a":')).toEqual({ code: 'invalid_json' });
    expect(await send('42')).toEqual({ body: 42 });
    expect(await send('42', {}, '/strict')).toEqual({ code: 'invalid_json' });
  });

  it('refuses a body over the limit, declared or streamed, and decompressed', async () => {
    const big = JSON.stringify({ a: 'x'.repeat(LIMIT) });
    expect(await send(big)).toEqual({ code: 'payload_too_large' });
    // Chunked: no Content-Length to check first, so the stream is counted.
    const stream = new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode(big)), c.close()) });
    const res = await fetch(url, { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
    expect(await res.json()).toEqual({ code: 'payload_too_large' });
    // Small on the wire, large once inflated.
    expect(await send(gzipSync(big), { 'content-encoding': 'gzip' })).toEqual({ code: 'payload_too_large' });
  });

  it('inflates gzip bodies and refuses encodings and charsets it cannot read', async () => {
    expect(await send(gzipSync('{"a":2}'), { 'content-encoding': 'gzip' })).toEqual({ body: { a: 2 } });
    expect(await send('{}', { 'content-encoding': 'compress' })).toEqual({ code: 'unsupported_media_type' });
    expect(await send('{}', { 'content-type': 'application/json; charset=latin1' })).toEqual({ code: 'unsupported_media_type' });
    expect(await send('{"é":1}', { 'content-type': 'application/json; charset=utf-8' })).toEqual({ body: { é: 1 } });
  });
});
