// Simulator options: one interface, defaults in one constant, validated once.
import { z } from 'zod';
import { DEFAULT_FAULTS, faultsPatchSchema, type Faults, type FaultsPatch } from './faults.js';
import type { Clock } from './stats.js';

export interface SimOptions {
  /** Base latency of every answer in ms. Default 0. */
  latencyMs?: number;
  /** Extra latency per completion token in ms. Default 0. */
  latencyPerTokenMs?: number;
  /** Seed of the fault PRNG, so fault sequences repeat run after run. Default 1. */
  seed?: number;
  /** Faults active from the start and again after POST /sim/reset. Default none. */
  faults?: FaultsPatch;
  /** Ids listed by GET /v1/models; chat completions answer any model. Default below. */
  models?: readonly string[];
  /** Clock for `created` timestamps and the rate window. Default `Date`. */
  clock?: Clock;
}

export const DEFAULT_SIM_OPTIONS = Object.freeze({
  latencyMs: 0,
  latencyPerTokenMs: 0,
  seed: 1,
  models: Object.freeze(['sim-small', 'sim-large', 'gpt-4o-mini']),
});

export interface ResolvedSimOptions {
  /** Faults at start-up and after a reset, latency and seed included. */
  initialFaults: Readonly<Faults>;
  models: readonly string[];
  clock: Clock;
}

const optionsSchema = z.object({
  latencyMs: z.number().min(0).optional(),
  latencyPerTokenMs: z.number().min(0).optional(),
  seed: z.number().int().optional(),
  faults: faultsPatchSchema.optional(),
  models: z.array(z.string().min(1)).optional(),
});

/** Merges defaults, validates (throws a TypeError naming the bad option) and freezes. */
export function resolveSimOptions(options: SimOptions = {}): ResolvedSimOptions {
  const parsed = optionsSchema.safeParse({ ...options, clock: undefined });
  if (!parsed.success) throw new TypeError(`invalid lm-sim options: ${z.prettifyError(parsed.error)}`);
  const o = parsed.data;
  return Object.freeze({
    initialFaults: Object.freeze({
      ...DEFAULT_FAULTS,
      latency_ms: o.latencyMs ?? DEFAULT_SIM_OPTIONS.latencyMs,
      latency_per_token_ms: o.latencyPerTokenMs ?? DEFAULT_SIM_OPTIONS.latencyPerTokenMs,
      seed: o.seed ?? DEFAULT_SIM_OPTIONS.seed,
      ...o.faults,
    }),
    models: Object.freeze([...(o.models ?? DEFAULT_SIM_OPTIONS.models)]),
    clock: options.clock ?? Date,
  });
}
