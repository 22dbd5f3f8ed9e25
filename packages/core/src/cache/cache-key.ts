// What a cache key is made of, computed the same way by the producer (fast path) and the worker:
// everything that changes the answer, tenant-scoped unless the program opts into sharing.
import { createHash } from 'node:crypto';
import type { CacheSettings, Config, ProgramCacheConfig, RouteConfig } from '../config/index.js';
import type { ChatMessage, SamplingParams } from '../lm/index.js';
import { buildPrompt } from '../pipeline/build-prompt.js';
import type { PredictionJobData } from '../queue/index.js';
import { canonicalJson } from './canonical-json.js';

/** Why a request skips the cache entirely (no lookup, no fill). */
export type BypassReason = 'disabled' | 'no-store' | 'temperature';

export interface CacheRequest {
  /** Canonical encoding of everything but the generations. */
  material: string;
  /** Namespace: "tenant:<name>" or "shared". */
  scope: string;
  program: string | null;
  mode: PredictionJobData['cache'];
  /** Per-request L2 TTL override, seconds. */
  ttlS: number | undefined;
}

/** The invalidation generations a key was computed under. */
export interface Generations {
  all: number;
  scope: number;
  program: number;
}

type Normalize = ProgramCacheConfig['normalize'];

function normalizeString(text: string, n: Normalize): string {
  let out = text;
  if (n.trim) out = out.trim();
  if (n.collapse_whitespace) out = out.replace(/\s+/g, ' ');
  if (n.lowercase) out = out.toLowerCase();
  return out;
}

/** Applies a program's normalisation to every string inside the inputs. */
export function normalizeInputs(value: unknown, n: Normalize): unknown {
  if (typeof value === 'string') return normalizeString(value, n);
  if (Array.isArray(value)) return value.map((v) => normalizeInputs(v, n));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, normalizeInputs(v, n)]));
  }
  return value;
}

/** The sampling parameters the LM is actually sent (max_tokens defaulted from the route). */
export function effectiveParams(data: PredictionJobData, route: RouteConfig): SamplingParams & { max_tokens: number } {
  return { ...data.params, max_tokens: data.params.max_tokens ?? route.default_max_tokens };
}

export function bypassReason(data: PredictionJobData, settings: CacheSettings): BypassReason | undefined {
  if (!settings.enabled) return 'disabled';
  if (data.cache === 'no-store') return 'no-store';
  // Only an explicit temperature: an unset one is the common deterministic-enough default (as in DSPy).
  if ((data.params.temperature ?? 0) > 0 && !settings.store_nonzero_temperature) return 'temperature';
  return undefined;
}

/**
 * The cache request of a prediction. `messages` may be passed when already rendered; they are
 * re-rendered from normalised inputs when the program normalises.
 */
export function cacheRequestFor(config: Config, data: PredictionJobData, route: RouteConfig, messages?: ChatMessage[]): CacheRequest {
  const programCache = data.program === null ? undefined : config.programs[data.program]?.cache;
  const n = programCache?.normalize;
  const normalizes = n !== undefined && (n.trim || n.collapse_whitespace || n.lowercase);
  const rendered =
    normalizes || messages === undefined
      ? buildPrompt(normalizes ? { ...data, inputs: normalizeInputs(data.inputs, n) as Record<string, unknown> } : data).messages
      : messages;
  const scope = programCache?.shared ? 'shared' : `tenant:${data.tenant}`;
  const material = canonicalJson({
    v: 1,
    scope,
    route: route.name,
    model: route.model,
    program: data.program,
    program_version: data.program_version,
    module: data.module,
    signature: data.signature,
    messages: rendered,
    params: effectiveParams(data, route),
  });
  return { material, scope, program: data.program, mode: data.cache, ttlS: data.cache_ttl_s };
}

/** SHA-256 over the canonical material and the generations. */
export function cacheKey(request: Pick<CacheRequest, 'material'>, gens: Generations): string {
  return createHash('sha256').update(request.material).update(`\u0000gen:${gens.all}.${gens.scope}.${gens.program}`).digest('hex');
}
