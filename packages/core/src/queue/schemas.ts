// What a prediction job carries and what it returns. The job's return value is the source of
// truth for a result. No secret ever goes into job data.
import { z } from 'zod';
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../program/json-depth.js';
import { ADAPTERS } from '../program/predict.js';
import { CACHE_LEVELS } from '../telemetry/metrics.js';

export const SamplingParamsSchema = z
  .object({
    temperature: z.number().min(0).max(2).optional(),
    max_tokens: z.number().int().positive().max(1_000_000).optional(),
    top_p: z.number().min(0).max(1).optional(),
    stop: z.union([z.string(), z.array(z.string()).max(4)]).optional(),
    seed: z.number().int().optional(),
    presence_penalty: z.number().min(-2).max(2).optional(),
    frequency_penalty: z.number().min(-2).max(2).optional(),
    response_format: z.object({ type: z.enum(['text', 'json_object']) }).strict().optional(),
  })
  .strict();

export const PredictionJobDataSchema = z
  .object({
    v: z.literal(1),
    tenant: z.string(),
    request_id: z.string(),
    program: z.string().nullable(),
    program_version: z.string().nullable(),
    module: z.enum(['Predict', 'ChainOfThought']),
    signature: z.string(),
    instructions: z.string().optional(),
    demos: z.array(z.record(z.string(), z.unknown())).default([]),
    /** DSPy's adapter: "chat" (default; a reply that does not parse is asked again as JSON) or "json". */
    adapter: z.enum(ADAPTERS).optional(),
    /** A saved program's field prefixes and descriptions (DSPy's signature state), inputs then outputs. */
    fields: z.array(z.object({ prefix: z.string().optional(), description: z.string().optional() }).strict()).max(128).optional(),
    inputs: z.record(z.string(), z.unknown()),
    route: z.string(),
    model: z.string(),
    params: SamplingParamsSchema,
    cache: z.enum(['default', 'no-store', 'refresh']).default('default'),
    /** Per-request cache TTL override, seconds. */
    cache_ttl_s: z.number().int().positive().max(30 * 86_400).optional(),
    callback_url: z.string().optional(),
    metadata: z.record(z.string(), z.string()).optional(),
    priority: z.enum(['interactive', 'batch']).default('interactive'),
    fallback: z.record(z.string(), z.unknown()).optional(),
    variant: z.string().nullable().default(null),
    /** The experiment that assigned `variant`. */
    experiment: z.string().optional(),
    /** A shadow run of another prediction (`control_id`): in the background, never returned to a caller. */
    shadow: z.object({ experiment: z.string(), control_id: z.string() }).strict().optional(),
    /** The id of this prediction's shadow run, whose outputs are compared with this one's. */
    shadow_id: z.string().optional(),
    /** Hash of the request body, so a reused Idempotency-Key with another body is caught. */
    request_hash: z.string().optional(),
    created_at: z.number(),
    /** When the prediction gives up waiting (ms since epoch); default: created_at + queue.deadline_s. */
    deadline_at: z.number().optional(),
    /** An item of an async batch: which batch, which line of its file, and the line's custom_id. */
    batch: z.object({ id: z.string(), line: z.number().int().positive(), custom_id: z.string() }).optional(),
    /** W3C trace context of the request that enqueued this job (only when tracing is on). */
    trace: z.object({ traceparent: z.string().max(128), tracestate: z.string().max(512).optional() }).optional(),
  })
  // The stages recurse over inputs, demos and fallback: a hand-made job is bounded like a request.
  .refine((data) => !nestsDeeperThan(data), { message: `job data nests deeper than ${MAX_JSON_DEPTH} levels` });

export type PredictionJobData = z.infer<typeof PredictionJobDataSchema>;

export const UsageSchema = z.object({
  prompt_tokens: z.number().int().min(0),
  completion_tokens: z.number().int().min(0),
  total_tokens: z.number().int().min(0),
  /** Subsets of prompt and completion tokens, as the LM reported them (cost tracking). */
  cached_tokens: z.number().int().min(0).optional(),
  reasoning_tokens: z.number().int().min(0).optional(),
});

export const PredictionResultSchema = z.object({
  outputs: z.record(z.string(), z.unknown()),
  usage: UsageSchema,
  cost_usd: z.number().min(0),
  /** The same cost in integer micro-dollars (what the ledger and budgets add up). */
  cost_micros: z.number().int().min(0).optional(),
  cache: z.object({ hit: z.boolean(), level: z.enum(CACHE_LEVELS).nullable() }),
  degraded: z.boolean(),
  variant: z.string().nullable(),
  program_version: z.string().nullable(),
  model: z.string(),
  route: z.string(),
  finish_reason: z.string().nullable(),
  timings: z.object({ queue_ms: z.number(), lm_ms: z.number(), total_ms: z.number() }),
  completed_at: z.number(),
});

export type PredictionResult = z.infer<typeof PredictionResultSchema>;
