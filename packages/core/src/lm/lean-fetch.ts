// The fetch the openai client runs on in LmClient: undici's request(), with a JSON answer read
// whole before it is handed over as a Response. Node's global fetch builds web streams, abort
// signals and a teed copy of the body for every call; request() does none of that. Measured
// with the same local server, 16 calls at a time: 227-270 µs of CPU per call with fetch, against
// 109-126 µs this way. That is a tenth of what a worker spends on a prediction.
//
// Written here because no library adapts undici's request() to the fetch signature (undici's own
// fetch is the global one). It covers what the openai client sends for chat completions. Anything
// else (a Request object, a streamed or multipart body) goes to the global fetch unchanged.
// Redirects are never followed: the call fails as fetch fails with `redirect: 'error'`.
import { Readable } from 'node:stream';
import { Agent, request, type Dispatcher } from 'undici';

/** One pool per process, keeping connections to each LM alive between calls (as fetch's own does). */
const dispatcher = new Agent();

/** Statuses whose Response may not have a body. */
const NO_BODY = new Set([101, 204, 205, 304]);

/** The cause fetch gives for a redirect under `redirect: 'error'`; leanFetch gives the same. */
export const REDIRECT_REFUSED = 'unexpected redirect';

function fetchFailed(cause: unknown): TypeError {
  return new TypeError('fetch failed', { cause });
}

function headersOf(init: RequestInit['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  // The openai client passes a Headers already: read it, do not copy it first.
  if (init) for (const [name, value] of init instanceof Headers ? init : new Headers(init)) out[name] = value;
  return out;
}

function responseHeaders(raw: Record<string, string | string[] | undefined>): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else headers.set(name, value);
  }
  return headers;
}

const utf8 = new TextDecoder();

/**
 * An answer whose body was read whole: text() and json() decode its bytes directly, and a body
 * stream is made only when something asks for one (or for any other way of reading it). A
 * Response built around the bytes costs ~22 µs a call (a web stream, its reader and a copy),
 * against ~5 µs this way; the openai client only calls json(), or text() for an error.
 */
class BufferedResponse extends Response {
  readonly #bytes: Uint8Array;
  #read = false;
  /** The same answer as an ordinary Response, made the first time it is needed. */
  #full: Response | undefined;

  constructor(bytes: Uint8Array, init: ResponseInit) {
    super(null, init);
    this.#bytes = bytes;
  }

  #whole(): Response {
    if (!this.#full) {
      this.#full = new Response(this.#bytes, { status: this.status, statusText: this.statusText, headers: this.headers });
      // Already read: so is the ordinary one, so that its body and methods say so as fetch's would.
      if (this.#read) void this.#full.arrayBuffer();
    }
    return this.#full;
  }

  async #text(): Promise<string> {
    if (this.#full) return this.#full.text();
    if (this.#read) throw new TypeError('Body is unusable: Body has already been read');
    this.#read = true;
    return utf8.decode(this.#bytes);
  }

  static {
    // The DOM types declare Response's members as properties, which a subclass may not redeclare
    // as methods or accessors; defined on the prototype here, they still reach the private fields.
    Object.defineProperties(BufferedResponse.prototype, {
      body: { get: function (this: BufferedResponse) { return this.#whole().body; } },
      bodyUsed: { get: function (this: BufferedResponse) { return this.#read || (this.#full?.bodyUsed ?? false); } },
      text: { value: function (this: BufferedResponse) { return this.#text(); } },
      json: { value: async function (this: BufferedResponse) { return JSON.parse(await this.#text()) as unknown; } },
      arrayBuffer: { value: async function (this: BufferedResponse) { return this.#whole().arrayBuffer(); } },
      blob: { value: async function (this: BufferedResponse) { return this.#whole().blob(); } },
      formData: { value: async function (this: BufferedResponse) { return this.#whole().formData(); } },
      clone: { value: function (this: BufferedResponse) { return this.#whole().clone(); } },
    });
  }
}

export async function leanFetch(input: string | URL | Request, init: RequestInit = {}): Promise<Response> {
  const { body } = init;
  if (input instanceof Request || !(body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array)) {
    return fetch(input, init);
  }
  const signal = init.signal ?? undefined;
  let res: Dispatcher.ResponseData;
  try {
    res = await request(input, {
      method: (init.method ?? 'GET') as Dispatcher.HttpMethod,
      headers: headersOf(init.headers),
      body: body ?? null,
      ...(signal ? { signal } : {}),
      dispatcher,
    });
  } catch (err) {
    // As fetch: an aborted call rejects with the signal's reason, any other failure is a TypeError.
    if (signal?.aborted) throw signal.reason;
    throw fetchFailed(err);
  }
  if (res.statusCode >= 300 && res.statusCode < 400 && res.headers.location !== undefined) {
    await res.body.dump();
    throw fetchFailed(new Error(REDIRECT_REFUSED));
  }
  const headers = responseHeaders(res.headers);
  const status = res.statusCode;
  if (NO_BODY.has(status)) {
    await res.body.dump();
    return new Response(null, { status, headers });
  }
  // A stream (server-sent events) is passed on as it arrives; anything else is read whole here.
  if (String(res.headers['content-type'] ?? '').startsWith('text/event-stream')) {
    return new Response(Readable.toWeb(res.body) as ReadableStream<Uint8Array>, { status, headers });
  }
  let bytes: ArrayBuffer;
  try {
    bytes = await res.body.arrayBuffer();
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    throw fetchFailed(err);
  }
  return new BufferedResponse(new Uint8Array(bytes), { status, headers });
}
