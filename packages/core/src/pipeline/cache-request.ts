// What a prediction's cache key is made of, computed the same way by the producer (fast path)
// and the worker: everything that changes the answer, tenant-scoped unless the program opts into
// sharing, after the program's input normalisation.
import type { CacheRequest } from '../cache/index.js';
import { canonicalJson } from '../cache/index.js';
import type { CacheSettings, Config, ProgramCacheConfig, RouteConfig } from '../config/index.js';
import type { ChatMessage } from '../lm/index.js';
import type { PredictionJobData } from '../queue/index.js';
import { buildModule } from './prepare.js';

/** Why a request skips the cache entirely (no lookup, no fill). */
export type BypassReason = 'disabled' | 'no-store' | 'temperature';

type Normalize = ProgramCacheConfig['normalize'];

function normalizeString(text: string, n: Normalize): string {
  let out = text;
  if (n.trim) out = out.trim();
  if (n.collapse_whitespace) out = out.replace(/\s+/g, ' ');
  if (n.lowercase) out = out.toLowerCase();
  return out;
}

/** Applies a program's normalisation to every string inside the inputs (depth-bounded at validation). */
export function normalizeInputs(value: unknown, n: Normalize): unknown {
  if (typeof value === 'string') return normalizeString(value, n);
  if (Array.isArray(value)) return value.map((v) => normalizeInputs(v, n));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, normalizeInputs(v, n)]));
  }
  return value;
}

export function bypassReason(data: PredictionJobData, settings: CacheSettings): BypassReason | undefined {
  if (!settings.enabled) return 'disabled';
  if (data.cache === 'no-store') return 'no-store';
  // Only an explicit temperature: an unset one is the common deterministic-enough default (as in DSPy).
  if ((data.params.temperature ?? 0) > 0 && !settings.store_nonzero_temperature) return 'temperature';
  return undefined;
}

/**
 * The cache request of a prediction, from the messages already rendered for it (re-rendered
 * from normalised inputs when the program normalises).
 */
export function cacheRequestFor(config: Config, data: PredictionJobData, route: RouteConfig, messages: ChatMessage[], params: object): CacheRequest {
  const programCache = data.program === null ? undefined : config.programs[data.program]?.cache;
  const n = programCache?.normalize;
  const normalizes = n !== undefined && (n.trim || n.collapse_whitespace || n.lowercase);
  const rendered = normalizes ? buildModule(data).messages(normalizeInputs(data.inputs, n)) : messages;
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
    params,
  });
  return { material, scope, program: data.program, mode: data.cache === 'refresh' ? 'refresh' : 'default', ttlS: data.cache_ttl_s };
}
