// How long an LM asked us to wait: retry-after-ms, retry-after (seconds or HTTP date),
// or OpenAI's x-ratelimit-reset-requests / -tokens ("1s", "6m0s", "250ms").

export type HeaderBag = { get(name: string): string | null } | Record<string, string | undefined>;

function header(headers: HeaderBag, name: string): string | undefined {
  if (typeof (headers as { get?: unknown }).get === 'function') {
    return (headers as { get(name: string): string | null }).get(name) ?? undefined;
  }
  return (headers as Record<string, string | undefined>)[name];
}

/** Parses durations such as "6m0s", "1.5s", "250ms", "2h". */
export function parseDuration(text: string): number | undefined {
  const re = /(\d+(?:\.\d+)?)(ms|h|m|s)/g;
  let total = 0;
  let matched = '';
  for (const match of text.trim().matchAll(re)) {
    const value = Number(match[1]);
    const unit = match[2];
    total += unit === 'ms' ? value : unit === 's' ? value * 1000 : unit === 'm' ? value * 60_000 : value * 3_600_000;
    matched += match[0];
  }
  return matched.length > 0 && matched === text.trim() ? Math.ceil(total) : undefined;
}

export function retryAfterMs(headers: HeaderBag | undefined, now: number = Date.now()): number | undefined {
  if (!headers) return undefined;
  const ms = header(headers, 'retry-after-ms');
  if (ms !== undefined && /^\d+(\.\d+)?$/.test(ms.trim())) return Math.ceil(Number(ms));
  const after = header(headers, 'retry-after');
  if (after !== undefined) {
    if (/^\d+(\.\d+)?$/.test(after.trim())) return Math.ceil(Number(after) * 1000);
    const date = Date.parse(after);
    if (!Number.isNaN(date)) return Math.max(0, date - now);
  }
  const resets = ['x-ratelimit-reset-requests', 'x-ratelimit-reset-tokens']
    .map((name) => header(headers, name))
    .map((v) => (v === undefined ? undefined : parseDuration(v)))
    .filter((v): v is number => v !== undefined);
  return resets.length > 0 ? Math.max(...resets) : undefined;
}
