// A cache request as the cache sees it: canonical material (whatever the caller says changes
// the answer), a namespace, an optional program for invalidation, a mode and a TTL. The key is a
// SHA-256 over the material and the invalidation generations.
import { createHash } from 'node:crypto';
import type { CACHE_LEVELS } from '../telemetry/metrics.js';

export type CacheLevel = (typeof CACHE_LEVELS)[number];

export interface CacheRequest {
  /** Canonical encoding of everything that changes the answer. */
  material: string;
  /** Namespace: "tenant:<name>" or "shared". */
  scope: string;
  program: string | null;
  /** `refresh` recomputes and overwrites. */
  mode: 'default' | 'refresh';
  /** Per-request L2 TTL override, seconds. */
  ttlS: number | undefined;
}

/** The invalidation generations a key was computed under. */
export interface Generations {
  all: number;
  scope: number;
  program: number;
}

export function cacheKey(request: Pick<CacheRequest, 'material'>, gens: Generations): string {
  return createHash('sha256').update(request.material).update(`\u0000gen:${gens.all}.${gens.scope}.${gens.program}`).digest('hex');
}
