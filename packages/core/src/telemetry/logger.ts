// The pino logger every process uses: JSON lines, LOG_LEVEL, secrets redacted, and the active
// trace's ids on every line when tracing is on (so a log line leads to its trace).
import { trace } from '@opentelemetry/api';
import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/** What a secret is replaced with in a log line. */
const CENSOR = '[redacted]';

/** Keys whose value is blanked at a log object's top level and one level down. */
const SECRET_KEYS = new Set(['authorization', 'apiKey', 'api_key', 'secret', 'password']);

/** Headers blanked in a `headers` object at a log object's top level or one level down. */
const SECRET_HEADERS = new Set(['authorization', 'x-api-key', 'proxy-authorization', 'cookie', 'set-cookie']);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A copy keeping the prototype and every own property (an Error's message and stack too). */
function copyOf<T extends object>(value: T): Record<string, unknown> {
  return Object.defineProperties(Object.create(Object.getPrototypeOf(value) as object | null), Object.getOwnPropertyDescriptors(value)) as Record<string, unknown>;
}

/** `headers` with its secret headers blanked, or `headers` itself when it has none. */
function cleanHeaders(headers: Record<string, unknown>): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const name in headers) {
    if (SECRET_HEADERS.has(name.toLowerCase())) (out ??= copyOf(headers))[name] = CENSOR;
  }
  return out ?? headers;
}

/** `obj` with its secret keys and headers blanked (and, at the top, its objects' too), or `obj` itself. */
function clean(obj: Record<string, unknown>, top: boolean): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const key in obj) {
    const value = obj[key];
    let replaced: unknown = value;
    if (SECRET_KEYS.has(key)) replaced = CENSOR;
    else if (key === 'headers' && isObject(value)) replaced = cleanHeaders(value);
    else if (top && isObject(value)) replaced = clean(value, false);
    if (replaced !== value) (out ??= copyOf(obj))[key] = replaced;
  }
  return out ?? obj;
}

/**
 * Blanks secrets wherever a log object carries them: API keys, passwords, secrets and
 * authorization at its top level and one level down, and authorization, API key and cookie
 * headers in a `headers` object at either level. Nothing is copied unless something is blanked.
 * Not pino's `redact` option: @pinojs/redact runs every property of every line through its
 * wildcard paths and parses each path again on each call, ~8 KB of garbage a line (a third of
 * what a cache hit allocates in the producer, V8's sampling heap profiler) and ~2% of the CPU.
 * A child logger's bindings are written as given (pino's formatters never see them, where its
 * redact option did): give a child fixed names only, as the cache's `component` is.
 */
export function redactSecrets(obj: Record<string, unknown>): Record<string, unknown> {
  return clean(obj, true);
}

/** The longest a line waits in the buffer before it is written. */
export const LOG_FLUSH_MS = 200;

function traceIds(): Record<string, string> {
  const span = trace.getActiveSpan();
  if (!span) return {};
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}

export function createLogger(options: { level?: string; name: string; destination?: pino.DestinationStream }): Logger {
  const opts: LoggerOptions = {
    name: options.name,
    level: options.level ?? 'info',
    formatters: { log: redactSecrets },
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    mixin: traceIds,
  };
  // Written asynchronously and in 4 KB blocks: a write per line was ~9% of the producer's CPU
  // and ~5% of a worker's under load, even unsynchronised (the previous write had nearly always
  // finished, so each line went out alone). A quiet process's lines still appear within
  // LOG_FLUSH_MS, and pino flushes what is buffered when the process exits.
  return pino(opts, options.destination ?? pino.destination({ dest: 1, sync: false, minLength: 4096, periodicFlush: LOG_FLUSH_MS }));
}
