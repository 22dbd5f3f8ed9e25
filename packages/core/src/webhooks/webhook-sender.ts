// One delivery attempt: POST the exact body with its Standard Webhooks headers through the
// guard's connection pool, with a timeout, and classify what happened. No redirect is followed
// and nothing of the response is kept but its status (its body is read and dropped).
import * as http from 'node:http';
import * as https from 'node:https';
import type { Clock } from '../clock/index.js';
import { retryAfterMs } from '../lm/retry-after.js';
import { CallbackRefusedError, isRefusal, type CallbackGuard } from './callback-guard.js';
import { isRetryableOutcome, outcomeOfStatus, type AttemptOutcome } from './delivery-policy.js';

export interface AttemptResult {
  outcome: AttemptOutcome;
  statusCode: number | null;
  latencyMs: number;
  /** Ours, short, never a response body. */
  error: string | null;
  retryable: boolean;
  retryAfterMs?: number;
}

export interface SendOptions {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** A response body larger than this is cut off (the socket is dropped, not drained). */
const MAX_RESPONSE_BYTES = 64 * 1024;

const USER_AGENT = 'predictq-webhooks/1';

function networkError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code ? `connection failed (${e.code})` : 'connection failed';
}

export class WebhookSender {
  readonly #guard: CallbackGuard;
  readonly #timeoutMs: number;
  readonly #clock: Clock;

  constructor(options: { guard: CallbackGuard; timeoutMs: number; clock: Clock }) {
    this.#guard = options.guard;
    this.#timeoutMs = options.timeoutMs;
    this.#clock = options.clock;
  }

  async send({ url, headers, body }: SendOptions): Promise<AttemptResult> {
    const started = this.#clock.now();
    const done = (outcome: AttemptOutcome, statusCode: number | null, error: string | null, extra: { retryAfterMs?: number } = {}): AttemptResult => ({
      outcome,
      statusCode,
      latencyMs: this.#clock.now() - started,
      error,
      retryable: isRetryableOutcome(outcome),
      ...extra,
    });
    let checked;
    try {
      // Settings may have changed since submission (allow_http, allow_hosts): checked again.
      checked = this.#guard.parse(url);
    } catch (err) {
      return done('refused', null, (err as CallbackRefusedError).message);
    }
    const signal = AbortSignal.timeout(this.#timeoutMs);
    const requester = checked.url.protocol === 'https:' ? https.request : http.request;
    return new Promise<AttemptResult>((resolve) => {
      const req = requester(checked.url, {
        method: 'POST',
        agent: this.#guard.agentFor(checked),
        lookup: this.#guard.lookupFor(checked.allowListed),
        signal,
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
          'user-agent': USER_AGENT,
        },
      });
      req.on('response', (res) => {
        const status = res.statusCode ?? 0;
        const outcome = outcomeOfStatus(status);
        const after = outcome === 'rate_limited' || outcome === 'server_error' ? retryAfterMs(res.headers as Record<string, string | undefined>, this.#clock.now()) : undefined;
        let bytes = 0;
        const finish = () =>
          resolve(done(outcome, status, outcome === 'ok' ? null : `HTTP ${status}`, after === undefined ? {} : { retryAfterMs: after }));
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (bytes > MAX_RESPONSE_BYTES) {
            res.destroy();
            finish();
          }
        });
        res.on('end', finish);
        res.on('error', finish);
        res.on('aborted', finish);
      });
      req.on('error', (err) => {
        if (signal.aborted) return resolve(done('timeout', null, `no response within ${this.#timeoutMs} ms`));
        if (isRefusal(err)) return resolve(done('refused', null, err.message));
        resolve(done('network_error', null, networkError(err)));
      });
      req.end(body);
    });
  }
}
