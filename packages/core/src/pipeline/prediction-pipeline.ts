// The prediction pipeline a worker runs for every job: small stages, dependencies passed in.
import type { Config, RouteConfig } from '../config/index.js';
import { PredictqError, ValidationError } from '../errors/index.js';
import type { LmCaller } from '../lm/index.js';
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

export class PredictionPipeline {
  readonly events: PipelineEvents;
  readonly #deps: PipelineDeps;

  constructor(deps: PipelineDeps) {
    this.#deps = deps;
    this.events = deps.events ?? new PipelineEvents();
  }

  async run(data: PredictionJobData, ctx: JobContext): Promise<PredictionResult> {
    const { clock } = this.#deps;
    const started = clock.now();
    try {
      const result = await this.#run(data, ctx, started);
      this.events.emit('prediction:succeeded', { jobId: ctx.jobId, data, result, durationMs: clock.now() - started });
      return result;
    } catch (err) {
      const error = err instanceof PredictqError ? err : new PredictqError('internal_error', 'unexpected failure', { cause: err });
      this.events.emit('prediction:failed', { jobId: ctx.jobId, data, error, durationMs: clock.now() - started });
      throw error;
    }
  }

  async #run(data: PredictionJobData, ctx: JobContext, started: number): Promise<PredictionResult> {
    const { config, clock } = this.#deps;
    const route = config.routes.find((r) => r.name === data.route);
    if (!route) throw new ValidationError('unknown_model', `route "${data.route}" is not configured on this worker`);

    const { module, messages } = buildPrompt(data);
    const params = { ...data.params, max_tokens: data.params.max_tokens ?? route.default_max_tokens };
    const { response, durationMs: lmMs } = await callLm(
      { lm: this.#deps.lmFor(route), clock, events: this.events },
      route,
      { messages, params, ...(ctx.signal ? { signal: ctx.signal } : {}), requestId: data.request_id },
    );
    const outputs = module.parse(response.text);
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
      timings: { queue_ms: Math.max(0, started - ctx.enqueuedAt), lm_ms: lmMs, total_ms: completedAt - started },
      completed_at: completedAt,
    };
  }
}
