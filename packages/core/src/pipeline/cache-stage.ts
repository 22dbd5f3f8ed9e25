// The cache stage of every job kind: wraps the LM side (compute) with lookup, single-flight and
// fill, and turns a hit into this job's result. Reported as a 'cache:lookup' event. The kind says
// what its entries are; no kind means the request skips the cache.
import type { CacheLevel, CacheRequest, EntryType, TieredCache } from '../cache/index.js';
import type { PipelineEvents } from './events.js';

export interface CacheKind<R, E> {
  request: CacheRequest;
  type: EntryType<E>;
  /** The entry to share, or undefined when this result is this request's alone. */
  entryOf(result: R): E | undefined;
  fromEntry(entry: E, level: CacheLevel): R;
}

export async function withCache<R, E>(
  deps: { cache: TieredCache; events: PipelineEvents },
  lookup: { route: string; model: string; signal?: AbortSignal | undefined },
  kind: CacheKind<R, E> | undefined,
  compute: () => Promise<R>,
): Promise<R> {
  const at = { route: lookup.route, model: lookup.model };
  if (!kind) {
    deps.cache.stats.inc('bypassed');
    deps.events.emit('cache:lookup', { ...at, outcome: 'bypass', level: null });
    return compute();
  }
  const resolution = await deps.cache.resolve(
    kind.request,
    kind.type,
    async () => {
      const result = await compute();
      return { result, entry: kind.entryOf(result) };
    },
    { signal: lookup.signal },
  );
  if (resolution.outcome !== 'hit') {
    deps.events.emit('cache:lookup', { ...at, outcome: resolution.outcome, level: null });
    return resolution.result;
  }
  deps.events.emit('cache:lookup', { ...at, outcome: 'hit', level: resolution.level });
  return kind.fromEntry(resolution.entry, resolution.level);
}
