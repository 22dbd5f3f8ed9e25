// The shape of predictq's settings, validated once with zod. Defaults live here and only here.
import { z } from 'zod';
import { costConfigIssues } from '../cost/cost-config-issues.js';
import { WEBHOOK_EVENT_TYPES } from '../webhooks/event-types.js';
import { ADAPTERS } from '../program/predict.js';
import { ExperimentSchema, ExperimentStoreSettingsSchema } from '../experiments/experiment-schema.js';

/** The longest deadline a prediction may have: a week (failed jobs are kept that long by default). */
export const MAX_DEADLINE_S = 7 * 86_400;

/**
 * One Redis (`redis://host:port`), or a Redis Cluster: two seeds or more separated by commas
 * (`redis://a:7000,redis://b:7000`).
 */
const redisUrl = z
  .string()
  .refine((url) => url.split(',').every((seed) => /^rediss?:\/\/[^\s,]+$/.test(seed.trim())), 'must start with redis:// or rediss:// (a Cluster: several such URLs separated by commas)');

const name = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'use letters, digits, ".", "_" or "-" (at most 63 characters)');

/** A route's circuit breaker: opossum per worker, state shared through Redis. */
export const BreakerSettingsSchema = z
  .object({
    /** A call slower than this is aborted and counts as a failure (default: the route's timeout_ms). */
    timeout_ms: z.number().int().positive().optional(),
    /** Failed share of the calls in the rolling window that opens the breaker, percent. */
    error_threshold_percentage: z.number().min(1).max(100).default(50),
    /** Calls a worker must have seen in the rolling window before its breaker may open. */
    volume_threshold: z.number().int().min(1).default(10),
    /** Open this long, then one probe call cluster-wide decides: close, or open again. */
    reset_timeout_ms: z.number().int().min(100).default(30_000),
    /** Length of the failure statistics window (10 buckets). */
    rolling_window_ms: z.number().int().min(1000).multipleOf(10).default(10_000),
  })
  .strict();

/** A route's LM rate limits across all workers; none by default. */
export const RouteLimitsSchema = z
  .object({
    /** LM requests per minute; also enforced per second as ceil(rpm / 60), as providers do. */
    rpm: z.number().int().positive().optional(),
    /** LM tokens (prompt + max_tokens, corrected after the call) per minute. */
    tpm: z.number().int().positive().optional(),
  })
  .strict();

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
    /**
     * Jobs one worker process runs at once on this route. A job spends nearly all its time
     * waiting for the LM, so a process holds many: 8 left a worker waiting on a 0 ms simulator
     * (bench/http-peers.ts: 634 uncached req/s at 8, 929 at 32, 908 at 64).
     */
    concurrency: z.number().int().positive().max(1000).default(32),
    /** max_tokens when a request does not say. */
    default_max_tokens: z.number().int().positive().default(1024),
    breaker: BreakerSettingsSchema.default(BreakerSettingsSchema.parse({})),
    limits: RouteLimitsSchema.default({}),
  })
  .strict();

/** A program's cache behaviour. */
export const ProgramCacheSchema = z
  .object({
    /** Share answers across tenants (default: every tenant has its own namespace). */
    shared: z.boolean().default(false),
    /** Input normalisation applied to string inputs before the cache key is computed (not to the prompt sent). */
    normalize: z
      .object({
        trim: z.boolean().default(false),
        collapse_whitespace: z.boolean().default(false),
        lowercase: z.boolean().default(false),
      })
      .strict()
      .default({ trim: false, collapse_whitespace: false, lowercase: false }),
  })
  .strict();

export const ProgramSchema = z
  .object({
    /** A file DSPy wrote with program.save("x.json") (relative to the config file): its instructions, demos and field descriptions. */
    path: z.string().min(1).optional(),
    signature: z.string().min(1),
    instructions: z.string().optional(),
    /** With `path`, read from the file (a ChainOfThought's saved state has its `reasoning` field). */
    module: z.enum(['Predict', 'ChainOfThought']).default('Predict'),
    /** DSPy's adapter: "chat" (ChatAdapter, asking again as JSON when a reply does not parse) or "json". */
    adapter: z.enum(ADAPTERS).default('chat'),
    /** Saved per-field prefixes and descriptions, inputs then outputs (filled from `path`). */
    fields: z.array(z.object({ prefix: z.string().optional(), description: z.string().optional() }).strict()).max(128).optional(),
    /** Bumping the version changes cache keys and shows in results. */
    version: z.string().min(1).default('1'),
    demos: z.array(z.record(z.string(), z.unknown())).max(64).default([]),
    /** Default route for this program. */
    model: z.string().optional(),
    cache: ProgramCacheSchema.optional(),
  })
  .strict();

export const TenantSchema = z
  .object({
    name,
    /** Environment variable holding this tenant's API key. */
    api_key_env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/),
    /** Predictions this tenant may submit per minute (overrides tenant_limits.rpm). */
    rpm: z.number().int().positive().optional(),
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
    /**
     * How long a prediction may wait (breaker open, rate window, 429 pause, budget hold, backlog)
     * before it fails with deadline_exceeded, seconds; a request's `deadline_s` overrides it.
     */
    deadline_s: z.number().int().min(1).max(MAX_DEADLINE_S).default(86_400),
    /** A worker that dies holding a job loses it after this (BullMQ lock). */
    lock_duration_ms: z.number().int().min(1000).default(30_000),
    stalled_interval_ms: z.number().int().min(500).default(30_000),
  })
  .strict();

/** The shared two-level cache (L1 in-process LRU, L2 Redis) with single-flight across workers. */
export const CacheSettingsSchema = z
  .object({
    /** Off: every request goes to the LM. */
    enabled: z.boolean().default(true),
    /** The cache's own Redis (defaults to redis_url). */
    redis_url: redisUrl.optional(),
    /** L2 (Redis) time to live, seconds; a request's cache_ttl_s overrides it. */
    ttl_s: z.number().int().positive().max(30 * 86_400).default(86_400),
    /** Up to this fraction of the TTL is added at random, so entries written together expire apart. */
    ttl_jitter: z.number().min(0).max(1).default(0.1),
    l1: z
      .object({
        /** Entries kept in each process. */
        max_entries: z.number().int().positive().max(10_000_000).default(10_000),
        /** Bytes kept in each process (encoded size of the entries). */
        max_bytes: z.number().int().positive().default(64 * 1024 * 1024),
        ttl_ms: z.number().int().positive().default(5 * 60_000),
      })
      .strict()
      .default({ max_entries: 10_000, max_bytes: 64 * 1024 * 1024, ttl_ms: 5 * 60_000 }),
    /** Larger answers are not cached. */
    max_value_bytes: z.number().int().positive().default(1024 * 1024),
    /** Single-flight lock lifetime; the holder renews it, so a dead holder frees it within this. */
    lock_ttl_ms: z.number().int().min(200).default(10_000),
    /** Longest a coalesced request waits for another worker's answer before calling the LM itself. */
    wait_ms: z.number().int().min(0).default(60_000),
    /** A cache Redis command slower than this counts as Redis trouble: the lookup goes on with L1 only. */
    redis_timeout_ms: z.number().int().min(10).default(500),
    /** After Redis trouble, Redis is not tried again for this long. */
    redis_retry_ms: z.number().int().min(0).default(1000),
    /** How long a process trusts its copy of the invalidation generations (invalidations also push). */
    generation_ttl_ms: z.number().int().min(0).default(1000),
    /** The producer answers an L2 hit itself, without a job. */
    producer_fast_path: z.boolean().default(true),
    /** Cache degraded (fallback) results. */
    store_degraded: z.boolean().default(false),
    /** Cache replies cut by max_tokens (finish_reason "length"). */
    store_truncated: z.boolean().default(false),
    /** Cache requests with an explicit temperature above 0. */
    store_nonzero_temperature: z.boolean().default(false),
    /** Each process adds its counters to the cluster-wide stats this often. */
    stats_flush_ms: z.number().int().min(50).default(1000),
  })
  .strict();

/** Program versions kept in Redis (PUT /admin/programs/:name). */
export const ProgramStoreSettingsSchema = z
  .object({
    /** Versions kept per program (the live and the previous one are never dropped). */
    keep_versions: z.number().int().min(2).max(1000).default(50),
    /** Largest uploaded program file. */
    max_bytes: z.number().int().positive().max(16 * 1024 * 1024).default(1024 * 1024),
    /** How long a process trusts its copy of a program's live version. */
    refresh_ms: z.number().int().min(0).default(1000),
  })
  .strict();

/** A model's price in USD per million tokens; overrides the shipped defaults. */
export const ModelPriceSchema = z
  .object({
    prompt: z.number().min(0),
    completion: z.number().min(0),
    /** Prompt tokens served from the provider's prompt cache; default: the prompt price. */
    cached_prompt: z.number().min(0).optional(),
  })
  .strict();

/** A spending limit in USD per UTC day and/or UTC month. */
export const BudgetSchema = z
  .object({
    daily_usd: z.number().positive().optional(),
    monthly_usd: z.number().positive().optional(),
    /** When spent: "reject" fails requests and queued jobs with budget_exceeded; "hold" keeps jobs until the reset. */
    policy: z.enum(['reject', 'hold']).default('reject'),
    /** Spending past this percent of a limit is logged and counted once per window. */
    soft_limit_percent: z.number().min(1).max(100).default(80),
  })
  .strict();

const envName = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'an environment variable name such as ACME_WEBHOOK_SECRET');

/**
 * Where a signing secret is read from (environment variables; the secrets never enter the config).
 * Rotation: put the new secret in `secret_env` and the old one in `previous_secret_env`; until
 * `previous_secret_until` every delivery carries a signature by each.
 */
const secretFields = {
  previous_secret_env: envName.optional(),
  /** When the previous secret stops signing (ISO 8601). */
  previous_secret_until: z.iso.datetime({ offset: true }).optional(),
};

/** An endpoint a tenant configured: every event of the listed types goes there. */
export const WebhookEndpointSchema = z
  .object({
    /** Names the endpoint in the delivery history (unique within the tenant). */
    name,
    url: z.url({ protocol: /^https?$/ }).max(2048),
    /** Event types sent here; "*" for all. */
    events: z.array(z.union([z.enum(WEBHOOK_EVENT_TYPES), z.literal('*')])).min(1),
    secret_env: envName,
    ...secretFields,
  })
  .strict();

export const TenantWebhooksSchema = z
  .object({
    /** Signs this tenant's per-request callback_url deliveries (default: webhooks.secret_env). */
    secret_env: envName.optional(),
    ...secretFields,
    endpoints: z.array(WebhookEndpointSchema).max(32).default([]),
  })
  .strict();

/** Webhook delivery: Standard Webhooks signatures, retries on the `webhooks` queue, SSRF guard. */
export const WebhookSettingsSchema = z
  .object({
    /** Signs per-request callback_url deliveries of tenants without their own secret; unset: those are refused. */
    secret_env: envName.default('PREDICTQ_WEBHOOK_SECRET'),
    ...secretFields,
    /** Per tenant ("default" without configured tenants): its own callback secret and its endpoints. */
    tenants: z.record(name, TenantWebhooksSchema).default({}),
    /** Allow http:// callback URLs (https only otherwise). */
    allow_http: z.boolean().default(false),
    /** Host names (as written in the URL, or IP literals) that may resolve to private addresses. */
    allow_hosts: z.array(z.string().min(1).max(253)).max(256).default([]),
    /** Resolve callback hosts with these DNS servers ("ip" or "ip:port") instead of the system resolver. */
    dns_servers: z.array(z.string().min(1)).max(8).default([]),
    /** One attempt (connect, send, response headers) gives up after this. */
    timeout_ms: z.number().int().min(100).max(120_000).default(10_000),
    /** Deliveries one worker process makes at once. */
    concurrency: z.number().int().min(1).max(1000).default(50),
    /** Delay before each retry (after attempt 1, 2, ...); the attempt after the last delay is the last one. */
    retry_delays_ms: z
      .array(z.number().int().min(0).max(7 * 86_400_000))
      .max(50)
      .default([10_000, 60_000, 300_000, 1_800_000, 3_600_000, 7_200_000, 14_400_000, 28_800_000, 28_800_000]),
    /** Each delay is spread by up to this fraction either way. */
    jitter: z.number().min(0).max(1).default(0.2),
    /** A receiver's Retry-After is honoured up to this. */
    retry_after_max_ms: z.number().int().min(0).default(3_600_000),
    /** Delivery history (and finished delivery jobs) is kept this long, seconds ... */
    keep_s: z.number().int().positive().default(7 * 86_400),
    /** ... and at most this many deliveries (per tenant, and finished jobs in the queue). */
    keep_count: z.number().int().positive().default(100_000),
  })
  .strict();
/**
 * Local autoscaling of `npm start`'s worker processes (PREDICTQ_WORKERS=auto, or this section):
 * between min and max, from the routes' backlog and running jobs, within their rate limits.
 */
export const AutoscaleSettingsSchema = z
  .object({
    /** Fewest worker processes (0: none while nothing waits). */
    min: z.number().int().min(0).max(64).default(1),
    /** Most worker processes. */
    max: z.number().int().min(1).max(64).default(4),
    /** How often the backlog is read and a decision made. */
    interval_ms: z.number().int().min(100).default(2000),
    /** After scaling up, the next scale-up waits this long (new workers need a moment to take jobs). */
    scale_up_cooldown_ms: z.number().int().min(0).default(10_000),
    /** Scale down only after a lower count has been enough for this long, and this long after any change. */
    scale_down_delay_ms: z.number().int().min(0).default(60_000),
    /** Scale down only to a count whose slots would be at most this busy (the gap to 1 is the hysteresis). */
    scale_down_utilisation: z.number().gt(0).max(1).default(0.7),
    /** No scale-down while a job has waited longer than this, seconds. */
    max_backlog_age_s: z.number().min(0).default(30),
  })
  .strict()
  .refine((a) => a.min <= a.max, { message: 'min must not exceed max', path: ['min'] });

export const ConfigSchema = z
  .object({
    /** Redis, or a Redis Cluster's seeds (comma-separated). */
    redis_url: redisUrl.default('redis://127.0.0.1:6379'),
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
    program_store: ProgramStoreSettingsSchema.default(ProgramStoreSettingsSchema.parse({})),
    /** A/B experiments by name (PUT /admin/experiments/:name adds or overrides at run time). */
    experiments: z.record(name, ExperimentSchema).default({}),
    experiment_store: ExperimentStoreSettingsSchema.default(ExperimentStoreSettingsSchema.parse({})),
    /** Without tenants, the API is open and every request belongs to tenant "default". */
    tenants: z.array(TenantSchema).default([]),
    /** Ingest limit per tenant at the producer (429 with Retry-After); none by default. */
    tenant_limits: z
      .object({
        /** Predictions one tenant may submit per minute, across all producers. */
        rpm: z.number().int().positive().optional(),
      })
      .strict()
      .default({}),
    /** Environment variable holding the admin key (bull-board, /admin/*). */
    admin_key_env: z.string().default('PREDICTQ_ADMIN_KEY'),
    queue: QueueSettingsSchema.default(QueueSettingsSchema.parse({})),
    cache: CacheSettingsSchema.default(CacheSettingsSchema.parse({})),
    http: z
      .object({
        /** Largest accepted request body. */
        body_limit_bytes: z.number().int().positive().default(1024 * 1024),
        /** Longest `Prefer: wait=N` honoured, seconds. */
        max_wait_s: z.number().int().min(0).max(600).default(60),
        /** How long a chat completion may take, queue wait included (its job's deadline), seconds. */
        chat_timeout_s: z.number().int().min(1).max(3600).default(600),
      })
      .strict()
      .default({ body_limit_bytes: 1024 * 1024, max_wait_s: 60, chat_timeout_s: 600 }),
    /** Async batches (POST /v1/batches). */
    batches: z
      .object({
        /** Requests one batch file may hold (OpenAI's limit). */
        max_lines: z.number().int().positive().max(1_000_000).default(50_000),
        /** The longest request line. */
        max_line_bytes: z.number().int().positive().max(16 * 1024 * 1024).default(1024 * 1024),
        /** Batches (and their request counts) are kept this many days after their window ends. */
        retention_days: z.number().int().min(1).max(365).default(30),
        /** Batch bookkeeping jobs (ingest, expiry, cancel, finalize) one producer runs at once. */
        concurrency: z.number().int().min(1).max(16).default(2),
      })
      .strict()
      .default({ max_lines: 50_000, max_line_bytes: 1024 * 1024, retention_days: 30, concurrency: 2 }),
    /** Files uploaded with POST /v1/files (purpose "batch"), kept in Redis. */
    files: z
      .object({
        /** The largest file accepted. */
        max_bytes: z.number().int().positive().max(1024 * 1024 * 1024).default(100 * 1024 * 1024),
        /** Files expire this many days after they were written. */
        retention_days: z.number().int().min(1).max(365).default(30),
      })
      .strict()
      .default({ max_bytes: 100 * 1024 * 1024, retention_days: 30 }),
    /** npm start's worker autoscaling (see AutoscaleSettingsSchema); off unless set or PREDICTQ_WORKERS=auto. */
    autoscale: AutoscaleSettingsSchema.optional(),
    /** SIGTERM: active jobs get this long to finish before the process exits. */
    shutdown_timeout_ms: z.number().int().positive().default(25_000),
    logging: z
      .object({
        /** Log prediction inputs and outputs in the worker's line; off = their lengths only. */
        log_payloads: z.boolean().default(false),
      })
      .strict()
      .default({ log_payloads: false }),
    /** Prices by model name, over the defaults in cost/prices.ts. */
    prices: z.record(z.string().min(1), ModelPriceSchema).default({}),
    /** A model without a price costs 0 (counted, with a warning) or stops start-up ("fail"). */
    unknown_model_price: z.enum(['zero', 'fail']).default('zero'),
    /** Budgets: one for all tenants together, and per tenant name ("default" without tenants). */
    budgets: z
      .object({ global: BudgetSchema.optional(), tenants: z.record(name, BudgetSchema).default({}) })
      .strict()
      .default({ tenants: {} }),
    /** Days the per-day usage aggregates (GET /admin/usage) are kept in Redis. */
    usage_retention_days: z.number().int().min(1).max(3660).default(400),
    webhooks: WebhookSettingsSchema.default(WebhookSettingsSchema.parse({})),
  })
  .strict()
  .superRefine((config, ctx) => {
    for (const issue of costConfigIssues(config)) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
  });

export type RouteConfig = z.infer<typeof RouteSchema>;
export type ProgramConfig = z.infer<typeof ProgramSchema>;
export type ProgramStoreSettings = z.infer<typeof ProgramStoreSettingsSchema>;
export type TenantConfig = z.infer<typeof TenantSchema>;
export type BreakerSettings = z.infer<typeof BreakerSettingsSchema>;
export type RouteLimits = z.infer<typeof RouteLimitsSchema>;
export type QueueSettings = z.infer<typeof QueueSettingsSchema>;
export type CacheSettings = z.infer<typeof CacheSettingsSchema>;
export type ProgramCacheConfig = z.infer<typeof ProgramCacheSchema>;
export type ModelPriceConfig = z.infer<typeof ModelPriceSchema>;
export type BudgetConfig = z.infer<typeof BudgetSchema>;
export type WebhookSettings = z.infer<typeof WebhookSettingsSchema>;
export type WebhookEndpointConfig = z.infer<typeof WebhookEndpointSchema>;
export type TenantWebhooksConfig = z.infer<typeof TenantWebhooksSchema>;
export type AutoscaleSettings = z.infer<typeof AutoscaleSettingsSchema>;
export type Config = Readonly<z.infer<typeof ConfigSchema>>;
