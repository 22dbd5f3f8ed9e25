// Fault injection: the current fault settings and the seeded rolls that decide each request's
// fate, so a test that sets a seed sees the same sequence of failures every run.
import { z } from 'zod';
import { createPrng } from './prng.js';

const rate = z.number().min(0).max(1);
const errorStatus = z.number().int().min(400).max(599);
const millis = z.number().min(0).max(3_600_000);

/** Body of PUT /sim/faults: every key optional, merged into the current settings. */
export const faultsPatchSchema = z.strictObject({
  /** Share of requests answered with `error_status`. */
  error_rate: rate,
  /** Status of injected errors, any 4xx or 5xx. */
  error_status: errorStatus,
  /** Share of requests answered 429 with retry-after headers. */
  rate_limit_rate: rate,
  /** Sent as `retry-after` (whole seconds, rounded up) and `retry-after-ms`. */
  retry_after_s: z.number().min(0).max(86_400),
  /** Share of requests never answered until the client gives up. */
  hang_rate: rate,
  /** Every request fails with `outage_status`. */
  outage: z.boolean(),
  outage_status: errorStatus,
  /** Base latency of every answer, ms. */
  latency_ms: millis,
  /** Extra latency per completion token, ms. */
  latency_per_token_ms: z.number().min(0).max(60_000),
  /** Re-seeds the fault PRNG. */
  seed: z.number().int(),
}).partial();

export type FaultsPatch = z.infer<typeof faultsPatchSchema>;
export type Faults = Required<FaultsPatch>;

export const DEFAULT_FAULTS: Readonly<Faults> = Object.freeze({
  error_rate: 0,
  error_status: 500,
  rate_limit_rate: 0,
  retry_after_s: 1,
  hang_rate: 0,
  outage: false,
  outage_status: 503,
  latency_ms: 0,
  latency_per_token_ms: 0,
  seed: 1,
});

/** What happens to one request. Rates stack in this order and are capped at 1 together. */
export type FaultRoll = 'rate_limited' | 'error' | 'hang' | 'none';

export class FaultInjector {
  private faults: Faults;
  private rand: () => number;

  constructor(private readonly initial: Readonly<Faults>) {
    this.faults = { ...initial };
    this.rand = createPrng(initial.seed);
  }

  get current(): Readonly<Faults> {
    return { ...this.faults };
  }

  update(patch: FaultsPatch): Readonly<Faults> {
    this.faults = { ...this.faults, ...patch };
    if (patch.seed !== undefined) this.rand = createPrng(patch.seed);
    return this.current;
  }

  /** Back to the start-up settings and the start of the seeded sequence. */
  reset(): void {
    this.faults = { ...this.initial };
    this.rand = createPrng(this.initial.seed);
  }

  /** One PRNG draw per request, whatever the rates, so changing one rate keeps the sequence. */
  roll(): FaultRoll {
    const { rate_limit_rate, error_rate, hang_rate } = this.faults;
    const u = this.rand();
    if (u < rate_limit_rate) return 'rate_limited';
    if (u < rate_limit_rate + error_rate) return 'error';
    if (u < rate_limit_rate + error_rate + hang_rate) return 'hang';
    return 'none';
  }
}
