// A typed client for predictq's HTTP API (predictions, files, batches, usage), on the platform's
// fetch. Uploads stream the file from disk; downloads stream it back.
import { openAsBlob } from 'node:fs';
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import { errorFrom } from './errors.js';
import type { Batch, FileObject, Prediction, UsageReport } from './types.js';

export interface ClientOptions {
  /** The producer, e.g. http://127.0.0.1:3000 (PREDICTQ_URL). */
  baseUrl: string;
  /** The tenant's API key (PREDICTQ_API_KEY); none for an open deployment. */
  apiKey?: string | undefined;
}

export interface PredictRequest {
  signature?: string;
  program?: string;
  inputs: Record<string, unknown>;
  model?: string;
  [key: string]: unknown;
}

export class PredictqClient {
  readonly #base: string;
  readonly #headers: Record<string, string>;

  constructor(options: ClientOptions) {
    this.#base = options.baseUrl.replace(/\/+$/, '');
    this.#headers = options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {};
  }

  async #call<T>(method: string, path: string, init: { body?: unknown; headers?: Record<string, string> } = {}): Promise<T> {
    const json = init.body !== undefined && !(init.body instanceof FormData);
    const response = await fetch(`${this.#base}${path}`, {
      method,
      headers: { ...this.#headers, ...(json ? { 'content-type': 'application/json' } : {}), ...init.headers },
      ...(init.body === undefined ? {} : { body: json ? JSON.stringify(init.body) : (init.body as FormData) }),
    });
    if (!response.ok) throw await errorFrom(response);
    return (await response.json()) as T;
  }

  /** A prediction, waiting up to `waitS` seconds for it (Prefer: wait). */
  predict(request: PredictRequest, waitS = 60): Promise<Prediction> {
    return this.#call('POST', '/v1/predictions', { body: request, headers: { prefer: `wait=${waitS}` } });
  }

  getPrediction(id: string): Promise<Prediction> {
    return this.#call('GET', `/v1/predictions/${encodeURIComponent(id)}`);
  }

  /** Uploads a file for a batch (read from disk as it is sent). */
  async uploadFile(path: string): Promise<FileObject> {
    const form = new FormData();
    form.set('purpose', 'batch');
    form.set('file', await openAsBlob(path), basename(path));
    return this.#call('POST', '/v1/files', { body: form });
  }

  /** A file's content as a stream of bytes. */
  async fileContent(id: string): Promise<Readable> {
    const response = await fetch(`${this.#base}/v1/files/${encodeURIComponent(id)}/content`, { headers: this.#headers });
    if (!response.ok || !response.body) throw await errorFrom(response);
    return Readable.fromWeb(response.body as import('node:stream/web').ReadableStream);
  }

  createBatch(request: { input_file_id: string; endpoint: string; completion_window?: string; metadata?: Record<string, string>; callback_url?: string }): Promise<Batch> {
    return this.#call('POST', '/v1/batches', { body: { completion_window: '24h', ...request } });
  }

  getBatch(id: string): Promise<Batch> {
    return this.#call('GET', `/v1/batches/${encodeURIComponent(id)}`);
  }

  listBatches(query: { limit?: number; after?: string } = {}): Promise<{ data: Batch[]; has_more: boolean }> {
    const params = new URLSearchParams();
    if (query.limit !== undefined) params.set('limit', String(query.limit));
    if (query.after !== undefined) params.set('after', query.after);
    return this.#call('GET', `/v1/batches${params.size ? `?${params}` : ''}`);
  }

  cancelBatch(id: string): Promise<Batch> {
    return this.#call('POST', `/v1/batches/${encodeURIComponent(id)}/cancel`);
  }

  /** The API key's own usage (tokens and USD), month to date unless told otherwise. */
  usage(query: { from?: string; to?: string; group_by?: string } = {}): Promise<UsageReport> {
    const params = new URLSearchParams(Object.entries(query).filter((e): e is [string, string] => e[1] !== undefined));
    return this.#call('GET', `/v1/usage${params.size ? `?${params}` : ''}`);
  }
}
