// Fault injection: the current fault settings and the seeded rolls that decide each request's
// fate, so a test that sets a seed sees the same sequence of failures every run.
import { z } from 'zod';
import { createPrng, sha256Hex } from './prng.js';

const rate = z.number().min(0).max(1);
const errorStatus = z.number().int().min(400).max(599);
const millis = z.number().min(0).max(3_600_000);

/**
 * What can be set for one model (`by_model`), over the settings for all: failures, latency, and
 * the shape of DSPy answers. Answer shapes are decided by a hash of the prompt (not the fault
 * PRNG), so the same prompt gets the same shape from a model whatever the order of requests.
 */
export const modelFaultsSchema = z.strictObject({
  error_rate: rate,
  error_status: errorStatus,
  rate_limit_rate: rate,
  hang_rate: rate,
  latency_ms: millis,
  /** Share of ChatAdapter prompts answered without the `[[ ## field ## ]]` markers (the values only). */
  unformatted_rate: rate,
  /** Share of DSPy prompts answered differently (every string value changed). */
  divergence_rate: rate,
  /** Share of DSPy prompts answered alike but written differently (strings upper-cased, spaces doubled). */
  variation_rate: rate,
}).partial();

export type ModelFaults = z.infer<typeof modelFaultsSchema>;

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
  unformatted_rate: rate,
  divergence_rate: rate,
  variation_rate: rate,
  /** Every model gives the same answer to the same DSPy prompt (before divergence and variation). */
  shared_answers: z.boolean(),
  /** Settings for one model over the rest; a model's entry replaces its previous one. */
  by_model: z.record(z.string().min(1).max(200), modelFaultsSchema).refine((m) => Object.keys(m).length <= 32, 'at most 32 models'),
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
  unformatted_rate: 0,
  divergence_rate: 0,
  variation_rate: 0,
  shared_answers: false,
  by_model: {},
});

/** How the simulator writes one DSPy answer. */
export interface AnswerStyle {
  /** The prompt's answer is the same whatever the model. */
  shared: boolean;
  /** ChatAdapter reply without its markers. */
  unformatted: boolean;
  fate: 'same' | 'diverge' | 'vary';
}

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
    this.faults = { ...this.faults, ...patch, by_model: { ...this.faults.by_model, ...patch.by_model } };
    if (patch.seed !== undefined) this.rand = createPrng(patch.seed);
    return this.current;
  }

  /** Back to the start-up settings and the start of the seeded sequence. */
  reset(): void {
    this.faults = { ...this.initial };
    this.rand = createPrng(this.initial.seed);
  }

  /** The settings that apply to requests for `model`. */
  forModel(model: string | undefined): Readonly<Faults> {
    const own = model === undefined ? undefined : this.faults.by_model[model];
    return own ? { ...this.faults, ...own } : this.faults;
  }

  /** The shape of `model`'s answer to a prompt (`promptKey`: a hash of the request without its model). */
  answerStyle(model: string, promptKey: string): AnswerStyle {
    const f = this.forModel(model);
    const u = (salt: string) => Number.parseInt(sha256Hex(`${promptKey}:${model}:${salt}`).slice(0, 12), 16) / 2 ** 48;
    const fateDraw = u('fate');
    return {
      shared: f.shared_answers,
      unformatted: u('format') < f.unformatted_rate,
      fate: fateDraw < f.divergence_rate ? 'diverge' : fateDraw < f.divergence_rate + f.variation_rate ? 'vary' : 'same',
    };
  }

  /** One PRNG draw per request, whatever the rates, so changing one rate keeps the sequence. */
  roll(model?: string): FaultRoll {
    const { rate_limit_rate, error_rate, hang_rate } = this.forModel(model);
    const u = this.rand();
    if (u < rate_limit_rate) return 'rate_limited';
    if (u < rate_limit_rate + error_rate) return 'error';
    if (u < rate_limit_rate + error_rate + hang_rate) return 'hang';
    return 'none';
  }
}
