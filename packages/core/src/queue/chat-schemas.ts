// What a chat completion job carries and returns. The client's request body is passed to the
// LM as it came (the route's model replaces `model`); the job's return value holds the LM's
// whole answer. No secret ever goes into job data.
import { z } from 'zod';
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../program/json-depth.js';
import { CACHE_LEVELS } from '../telemetry/metrics.js';
import { UsageSchema } from './schemas.js';

export const ChatJobDataSchema = z
  .object({
    v: z.literal(1),
    kind: z.literal('chat'),
    tenant: z.string(),
    request_id: z.string(),
    route: z.string(),
    model: z.string(),
    /** The client's request, without `stream` and `stream_options` (the job says how to answer). */
    body: z.looseObject({ messages: z.array(z.unknown()).min(1) }),
    /** Relay the answer chunk by chunk as the LM streams it. */
    stream: z.boolean().default(false),
    cache: z.enum(['default', 'no-store', 'refresh']).default('default'),
    priority: z.enum(['interactive', 'batch']).default('interactive'),
    created_at: z.number(),
    deadline_at: z.number().optional(),
    trace: z.object({ traceparent: z.string().max(128), tracestate: z.string().max(512).optional() }).optional(),
    /** An item of an async batch: which batch, which line of its file, and the line's custom_id. */
    batch: z.object({ id: z.string(), line: z.number().int().positive(), custom_id: z.string() }).optional(),
  })
  .refine((data) => !nestsDeeperThan(data), { message: `job data nests deeper than ${MAX_JSON_DEPTH} levels` });

export type ChatJobData = z.infer<typeof ChatJobDataSchema>;

/** An OpenAI chat completion, checked only as far as predictq reads it. */
export const ChatCompletionSchema = z.looseObject({
  id: z.string(),
  object: z.literal('chat.completion'),
  created: z.number(),
  model: z.string(),
  choices: z.array(z.looseObject({ index: z.number(), finish_reason: z.string().nullable() })),
});

export type StoredChatCompletion = z.infer<typeof ChatCompletionSchema>;

export const ChatResultSchema = z.object({
  completion: ChatCompletionSchema,
  usage: UsageSchema,
  cost_usd: z.number().min(0),
  cost_micros: z.number().int().min(0),
  cache: z.object({ hit: z.boolean(), level: z.enum(CACHE_LEVELS).nullable() }),
  model: z.string(),
  route: z.string(),
  timings: z.object({ queue_ms: z.number(), lm_ms: z.number(), total_ms: z.number() }),
  completed_at: z.number(),
});

export type ChatResult = z.infer<typeof ChatResultSchema>;
