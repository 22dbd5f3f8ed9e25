// The prediction pipeline a worker runs for every job: small stages, dependencies passed in.
//
// run():      route -> prompt -> [cache lookup + single-flight] -> compute() -> [cache fill]
// compute():  [budget reservation] -> [rate-limit admission] -> [breaker] -> LM call -> parse
//             -> [cost settlement]
import type { Config, RouteConfig } from '../config/index.js';
import { PredictqError, ValidationError } from '../errors/index.js';
import type { ChatMessage, LmCaller, SamplingParams } from '../lm/index.js';
import type { Predict } from '../program/index.js';
import type { PredictionJobData, PredictionResult } from '../queue/index.js';
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
}

export interface JobContext {
  jobId: string;
  /** When the job was enqueued (ms since epoch). */
  enqueuedAt: number;
  signal?: AbortSignal;
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
      this.events.emit('prediction:failed', { jobId: job.jobId, data, error, durationMs: clock.now() - started });
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
    return this.#compute(ctx);
  }

  /** The LM side of a prediction: everything that runs on a cache miss. */
  async #compute(ctx: PredictionRequestContext): Promise<PredictionResult> {
    const { clock } = this.#deps;
    const { data, job, route } = ctx;

    const { response, durationMs: lmMs } = await callLm(
      { lm: this.#deps.lmFor(route), clock, events: this.events },
      route,
      { messages: ctx.messages, params: ctx.params, ...(job.signal ? { signal: job.signal } : {}), requestId: data.request_id },
    );
    const outputs = ctx.module.parse(response.text);
    const completedAt = clock.now();
    return {
      outputs,
      usage: {
        prompt_tokens: response.usage.prompt_tokens,
        completion_tokens: response.usage.completion_tokens,
        total_tokens: response.usage.total_tokens,
      },
      cost_usd: 0,
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
  }
}
