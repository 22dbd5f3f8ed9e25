// An experiment: variants (each a program version and/or a route and/or sampling parameters)
// with weights, a control, an optional shadow run and guardrails. Validated the same way from
// the config file and from PUT /admin/experiments/:name.
import { z } from 'zod';
import { SamplingParamsSchema } from '../queue/schemas.js';

const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'use letters, digits, ".", "_" or "-" (at most 63 characters)');

/** Variants one experiment may have: each is a metric label value. */
export const MAX_VARIANTS = 8;

export const VariantSchema = z
  .object({
    /** Share of subjects, relative to the other weights (0: only as a shadow). */
    weight: z.number().min(0).max(1_000_000),
    /** A program ("qa", its live version) or a pinned version ("qa@2") replacing the request's. */
    program: z.string().min(1).max(100).optional(),
    /** A route or model replacing the request's. */
    model: z.string().min(1).max(200).optional(),
    /** Sampling parameters laid over the request's. */
    params: SamplingParamsSchema.optional(),
  })
  .strict();

export const GuardrailsSchema = z
  .object({
    /** Finished calls a variant needs (since it was last resumed) before a guardrail may pause it. */
    min_requests: z.number().int().min(1).default(50),
    /** Pause when the variant's failed share of calls exceeds the control's by more than this (0.1 = 10 points). */
    max_error_rate_increase: z.number().min(0).max(1).optional(),
    /** Pause when its cost per request exceeds the control's by more than this percent. */
    max_cost_increase_percent: z.number().min(0).optional(),
  })
  .strict();

export const ShadowSchema = z
  .object({
    /** The variant that runs in the background on a sample of the control's traffic. */
    variant: name,
    /** Share of the control's predictions that also run the shadow. */
    sample_rate: z.number().min(0).max(1),
    /** The shadow's own spending cap per UTC day; past it no shadow runs until the next day. */
    max_usd_per_day: z.number().positive(),
  })
  .strict();

export const ExperimentSchema = z
  .object({
    /** The variant the others are compared with, and where a paused variant's traffic goes. */
    control: name.default('control'),
    variants: z.record(name, VariantSchema).refine((v) => Object.keys(v).length >= 1 && Object.keys(v).length <= MAX_VARIANTS, {
      message: `an experiment has 1 to ${MAX_VARIANTS} variants`,
    }),
    shadow: ShadowSchema.optional(),
    guardrails: GuardrailsSchema.optional(),
    /** Predictions per variant before the report calls a difference (the power calculation may ask for more). */
    min_sample: z.number().int().min(2).default(100),
    /** The smallest difference in success rate worth detecting (absolute), for the sample size the report asks for. */
    min_detectable_effect: z.number().min(0.001).max(1).default(0.05),
    /** Significance level of the report's tests and intervals. */
    alpha: z.number().min(0.0001).max(0.5).default(0.05),
  })
  .strict()
  .superRefine((e, ctx) => {
    const variants = e.variants;
    if (!Object.hasOwn(variants, e.control)) ctx.addIssue({ code: 'custom', path: ['control'], message: `no variant is named "${e.control}"` });
    else if (variants[e.control]!.weight <= 0) ctx.addIssue({ code: 'custom', path: ['control'], message: 'the control needs a weight above 0' });
    if (e.shadow) {
      if (!Object.hasOwn(variants, e.shadow.variant)) ctx.addIssue({ code: 'custom', path: ['shadow', 'variant'], message: `no variant is named "${e.shadow.variant}"` });
      if (e.shadow.variant === e.control) ctx.addIssue({ code: 'custom', path: ['shadow', 'variant'], message: 'the control cannot shadow itself' });
    }
  });

export type Experiment = z.infer<typeof ExperimentSchema>;
export type Variant = z.infer<typeof VariantSchema>;

/** Settings of the experiment store. */
export const ExperimentStoreSettingsSchema = z
  .object({
    /** Experiments (config file and run time together): each is a metric label value. */
    max_experiments: z.number().int().min(1).max(256).default(32),
    /** Statistics are kept this long after their last update. */
    stats_ttl_days: z.number().int().min(1).max(400).default(30),
    /** How long a process trusts its copy of an experiment's definition and paused variants. */
    refresh_ms: z.number().int().min(0).default(1000),
  })
  .strict();
