// The shape of predictq's settings, validated once with zod. Defaults live here and only here.
import { z } from 'zod';

const name = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'use letters, digits, ".", "_" or "-" (at most 63 characters)');

export const RouteSchema = z
  .object({
    /** Route name: one BullMQ queue, breaker and limiter each. */
    name,
    /** Model name sent to the endpoint and used as the metrics label. */
    model: z.string().min(1),
    /** OpenAI-compatible base URL, e.g. https://api.openai.com/v1. */
    base_url: z.url(),
    /** Name of the environment variable that holds the API key (never the key itself). */
    api_key_env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/).optional(),
    /** LM call timeout. */
    timeout_ms: z.number().int().positive().default(60_000),
    /** Jobs one worker process runs at once on this route. */
    concurrency: z.number().int().positive().max(1000).default(8),
    /** max_tokens when a request does not say. */
    default_max_tokens: z.number().int().positive().default(1024),
  })
  .strict();

export const ProgramSchema = z
  .object({
    signature: z.string().min(1),
    instructions: z.string().optional(),
    module: z.enum(['Predict', 'ChainOfThought']).default('Predict'),
    /** Bumping the version changes cache keys and shows in results. */
    version: z.string().min(1).default('1'),
    demos: z.array(z.record(z.string(), z.unknown())).max(64).default([]),
    /** Default route for this program. */
    model: z.string().optional(),
  })
  .strict();

export const TenantSchema = z
  .object({
    name,
    /** Environment variable holding this tenant's API key. */
    api_key_env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/),
  })
  .strict();

export const QueueSettingsSchema = z
  .object({
    /** Attempts for real errors (waiting for a breaker or rate limit spends none). */
    attempts: z.number().int().min(1).max(100).default(5),
    /** First retry delay; doubles each attempt, with jitter. */
    backoff_ms: z.number().int().min(0).default(1000),
    /** Finished jobs are kept this long (seconds) ... */
    keep_completed_s: z.number().int().positive().default(24 * 3600),
    /** ... and at most this many. */
    keep_completed_count: z.number().int().positive().default(10_000),
    keep_failed_s: z.number().int().positive().default(7 * 24 * 3600),
    keep_failed_count: z.number().int().positive().default(10_000),
    /** Times a job may wait (breaker open, rate window, budget hold) before it fails. */
    max_requeues: z.number().int().min(0).default(200),
    /** A worker that dies holding a job loses it after this (BullMQ lock). */
    lock_duration_ms: z.number().int().min(1000).default(30_000),
    stalled_interval_ms: z.number().int().min(500).default(30_000),
  })
  .strict();

export const ConfigSchema = z
  .object({
    redis_url: z.string().regex(/^rediss?:\/\//, 'must start with redis:// or rediss://').default('redis://127.0.0.1:6379'),
    /** Prefix of every Redis key predictq writes. */
    key_prefix: name.default('predictq'),
    port: z.number().int().min(0).max(65535).default(3000),
    host: z.string().default('0.0.0.0'),
    lm_sim_port: z.number().int().min(0).max(65535).default(3100),
    worker_metrics_port: z.number().int().min(0).max(65535).default(9464),
    log_level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    routes: z.array(RouteSchema).min(1),
    /** Route used when a request names no model. Defaults to the first route. */
    default_route: z.string().optional(),
    programs: z.record(name, ProgramSchema).default({}),
    /** Without tenants, the API is open and every request belongs to tenant "default". */
    tenants: z.array(TenantSchema).default([]),
    /** Environment variable holding the admin key (bull-board, /admin/*). */
    admin_key_env: z.string().default('PREDICTQ_ADMIN_KEY'),
    queue: QueueSettingsSchema.default(QueueSettingsSchema.parse({})),
    http: z
      .object({
        /** Largest accepted request body. */
        body_limit_bytes: z.number().int().positive().default(1024 * 1024),
        /** Longest `Prefer: wait=N` honoured, seconds. */
        max_wait_s: z.number().int().min(0).max(600).default(60),
      })
      .strict()
      .default({ body_limit_bytes: 1024 * 1024, max_wait_s: 60 }),
    /** SIGTERM: active jobs get this long to finish before the process exits. */
    shutdown_timeout_ms: z.number().int().positive().default(25_000),
  })
  .strict();

export type RouteConfig = z.infer<typeof RouteSchema>;
export type ProgramConfig = z.infer<typeof ProgramSchema>;
export type TenantConfig = z.infer<typeof TenantSchema>;
export type QueueSettings = z.infer<typeof QueueSettingsSchema>;
export type Config = Readonly<z.infer<typeof ConfigSchema>>;
