// The prediction pipeline a worker runs for every job: small stages, dependencies passed in.
//
// run():      route -> prompt -> [cache lookup + single-flight] -> compute() -> [cache fill]
// compute():  [budget reservation] -> [breaker] -> [rate-limit admission] -> LM call (timeout)
//             -> [cost settlement] -> parse   (settled before parsing: an unparseable reply was paid for)
import { runCacheStage } from '../cache/cache-stage.js';
import type { TieredCache } from '../cache/tiered-cache.js';
import type { Config, RouteConfig } from '../config/index.js';
import { microsToUsd, type CostTracker } from '../cost/index.js';
import { PredictqError, ValidationError, WaitError, isRetryable } from '../errors/index.js';
import type { ChatMessage, LmCaller, SamplingParams } from '../lm/index.js';
import type { Predict } from '../program/index.js';
import type { PredictionJobData, PredictionResult } from '../queue/index.js';
import { degradedResult, estimateCallTokens, type LmGuard } from '../resilience/index.js';
import { buildPrompt } from './build-prompt.js';
import { callLm } from './call-lm.js';
import type { Clock } from './clock.js';
import { PipelineEvents } from './events.js';

export interface PipelineDeps {
  config: Config;
  /** The LM client of a route. */
  lmFor(route: RouteConfig): LmCaller;
  clock: Clock;
  events?: PipelineEvents;
  /** Prices, budget reservations and the usage ledger; without it predictions cost 0. */
  cost?: CostTracker;
  /** Rate limits, circuit breaker, call timeout (issue 4); without it calls go straight out. */
  guard?: LmGuard;
  /** The shared two-level cache with single-flight (issue 3); without it every job calls the LM. */
  cache?: TieredCache;
}

export interface JobContext {
  jobId: string;
  /** When the job was enqueued (ms since epoch). */
  enqueuedAt: number;
  signal?: AbortSignal;
  /** False while attempts remain (a retryable failure then is retried, not final). */
  lastAttempt?: boolean;
}

/** Everything the stages of one prediction share. */
export interface PredictionRequestContext {
  data: PredictionJobData;
  job: JobContext;
  route: RouteConfig;
  module: Predict;
  messages: ChatMessage[];
  params: SamplingParams & { max_tokens: number };
  startedAt: number;
}

export class PredictionPipeline {
  readonly events: PipelineEvents;
  readonly #deps: PipelineDeps;

  constructor(deps: PipelineDeps) {
    this.#deps = deps;
    this.events = deps.events ?? new PipelineEvents();
  }

  async run(data: PredictionJobData, job: JobContext): Promise<PredictionResult> {
    const { clock } = this.#deps;
    const started = clock.now();
    try {
      const result = await this.#run(data, job, started);
      this.events.emit('prediction:succeeded', { jobId: job.jobId, data, result, durationMs: clock.now() - started });
      return result;
    } catch (err) {
      const error = err instanceof PredictqError ? err : new PredictqError('internal_error', 'unexpected failure', { cause: err });
      const willRetry = isRetryable(error) && job.lastAttempt === false;
      this.events.emit('prediction:failed', { jobId: job.jobId, data, error, willRetry, durationMs: clock.now() - started });
      throw error;
    }
  }

  async #run(data: PredictionJobData, job: JobContext, startedAt: number): Promise<PredictionResult> {
    const { config } = this.#deps;
    const route = config.routes.find((r) => r.name === data.route);
    if (!route) throw new ValidationError('unknown_model', `route "${data.route}" is not configured on this worker`);
    const { module, messages } = buildPrompt(data);
    const params = { ...data.params, max_tokens: data.params.max_tokens ?? route.default_max_tokens };
    const ctx: PredictionRequestContext = { data, job, route, module, messages, params, startedAt };

    // Cache stage (lookup, single-flight, fill) wraps compute().
    const { cache } = this.#deps;
    if (!cache) return this.#compute(ctx);
    return runCacheStage({ cache, config, clock: this.#deps.clock, events: this.events }, ctx, () => this.#compute(ctx));
  }

  /** The LM side of a prediction: everything that runs on a cache miss. */
  async #compute(ctx: PredictionRequestContext): Promise<PredictionResult> {
    const { clock } = this.#deps;
    const { data, job, route } = ctx;
    // [cost] Worst case reserved before anything can spend; settled with the real usage right
    // after the LM call; released if anything before the settlement throws (issue 5).
    const reservation = await this.#deps.cost?.reserve({
      id: job.jobId, tenant: data.tenant, route, variant: data.variant, messages: ctx.messages, maxTokens: ctx.params.max_tokens,
    });
    let costMicros: number | undefined;
    try {
      // [resilience] RPM/TPM admission, breaker, timeout signal, 429 pause; waiting is a
      // WaitError (requeue, no attempt spent); a fallback answers at once while the breaker is open.
      const lm = this.#deps.lmFor(route);
      const send = (signal?: AbortSignal) =>
        callLm({ lm, clock, events: this.events }, route, {
          messages: ctx.messages, params: ctx.params, ...(signal ? { signal } : {}), requestId: data.request_id,
        });
      let called: Awaited<ReturnType<typeof send>>;
      try {
        called = this.#deps.guard
          ? await this.#deps.guard.run({
              route, estimatedTokens: estimateCallTokens(ctx.messages, ctx.params.max_tokens),
              ...(job.signal ? { signal: job.signal } : {}), call: send, usedTokens: (r) => r.response.usage.total_tokens,
            })
          : await send(job.signal);
      } catch (err) {
        if (data.fallback && err instanceof WaitError && err.code === 'lm_circuit_open') {
          return degradedResult(data, route, data.fallback, { enqueuedAt: job.enqueuedAt, startedAt: ctx.startedAt, now: clock.now() });
        }
        throw err;
      }
      const { response, durationMs: lmMs } = called; // [/resilience]
      costMicros = (await reservation?.settle(response.usage)) ?? 0; // [cost]
      const outputs = ctx.module.parse(response.text);
      const completedAt = clock.now();
      return {
        outputs,
        usage: {
          prompt_tokens: response.usage.prompt_tokens,
          completion_tokens: response.usage.completion_tokens,
          total_tokens: response.usage.total_tokens,
          cached_tokens: response.usage.cached_tokens,
          reasoning_tokens: response.usage.reasoning_tokens,
        },
        cost_usd: microsToUsd(costMicros),
        cost_micros: costMicros,
        cache: { hit: false, level: null },
        degraded: false,
        variant: data.variant,
        program_version: data.program_version,
        model: route.model,
        route: route.name,
        finish_reason: response.finishReason,
        timings: { queue_ms: Math.max(0, ctx.startedAt - job.enqueuedAt), lm_ms: lmMs, total_ms: completedAt - ctx.startedAt },
        completed_at: completedAt,
      };
    } finally {
      if (costMicros === undefined) await reservation?.release(); // [cost]
    }
  }
}
