// The pipeline a worker runs for every job: small stages over one context, with dependencies
// passed in, ending in ONE outcome (ok | wait | retry | fail). Two job kinds share it:
//
//   prediction: decode -> deadline -> prompt -> [cache lookup + single-flight]
//     -> on a miss: budget -> breaker -> admission -> LM call -> settle -> parse -> [cache fill]
//   chat:       decode -> deadline -> [cache lookup + single-flight]
//     -> on a miss: budget -> breaker -> admission -> LM call (streamed: relayed) -> settle -> [cache fill]
import type { TieredCache } from '../cache/index.js';
import type { Clock } from '../clock/index.js';
import { routeNamed, type Config, type RouteConfig } from '../config/index.js';
import type { CostTracker } from '../cost/index.js';
import { PredictqError, ValidationError } from '../errors/index.js';
import type { LmCaller } from '../lm/index.js';
import {
  ChatJobDataSchema,
  PredictionJobDataSchema,
  type ChatJobData,
  type ChatResult,
  type PredictionJobData,
  type PredictionResult,
} from '../queue/index.js';
import type { RelayWriter } from '../relay/index.js';
import type { LmGuard } from '../resilience/index.js';
import { predictionCacheKind } from './cached-prediction.js';
import { withCache } from './cache-stage.js';
import { chatCacheKind, computeChat, replayChat, type ChatContext } from './chat-stage.js';
import { predictionContext, type JobContext } from './context.js';
import { PipelineEvents } from './events.js';
import { deadlineExceeded, decideOutcome, type Outcome } from './outcome.js';
import { computePrediction } from './predict-stage.js';
import { preparePrediction } from './prepare.js';

export interface PipelineDeps {
  config: Config;
  /** The LM client of a route. */
  lmFor(route: RouteConfig): LmCaller;
  clock: Clock;
  events?: PipelineEvents;
  /** Prices, budget reservations and the usage ledger; without it calls cost 0. */
  cost?: CostTracker;
  /** Rate limits, circuit breaker, call timeout; without it calls go straight out. */
  guard?: LmGuard;
  /** The shared two-level cache with single-flight; without it every job calls the LM. */
  cache?: TieredCache;
  /** Where a streamed job relays its chunks; without it chat jobs are answered whole. */
  relayFor?(jobId: string): RelayWriter;
}

function decoder<D>(schema: { safeParse(raw: unknown): { success: true; data: D } | { success: false; error: { issues: Array<{ message: string }> } } }) {
  return (raw: unknown): D => {
    const parsed = schema.safeParse(raw);
    if (!parsed.success) throw new PredictqError('invalid_request', `the job data is malformed: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    return parsed.data;
  };
}

/** The job data as a worker reads it; anything else fails the job at once. */
export const decodeJob = decoder<PredictionJobData>(PredictionJobDataSchema);
export const decodeChatJob = decoder<ChatJobData>(ChatJobDataSchema);

export class PredictionPipeline {
  readonly events: PipelineEvents;
  readonly #deps: PipelineDeps;

  constructor(deps: PipelineDeps) {
    this.#deps = deps;
    this.events = deps.events ?? new PipelineEvents();
  }

  /** When a job stops waiting: its own deadline, else the configured one from its creation. */
  deadlineOf(data: { created_at: number; deadline_at?: number | undefined }): number {
    return data.deadline_at ?? data.created_at + this.#deps.config.queue.deadline_s * 1000;
  }

  /** Runs a prediction job. */
  async run(raw: unknown, job: JobContext): Promise<Outcome> {
    const { outcome, data, durationMs } = await this.#run(raw, job, decodeJob, (data, startedAt) => this.#predict(data, job, startedAt));
    this.events.emit('prediction:outcome', { jobId: job.jobId, data, outcome, durationMs });
    return outcome;
  }

  /** Runs a chat completion job. */
  async chat(raw: unknown, job: JobContext): Promise<Outcome<ChatResult>> {
    let ctx: ChatContext | undefined;
    const { outcome, data, durationMs } = await this.#run(
      raw,
      job,
      decodeChatJob,
      (data, startedAt) => this.#chat((ctx = this.#chatContext(data, job, startedAt))),
      () => ctx?.streamed === true,
    );
    // A streamed client learns of the failure from the relay; a wait or a retry tells it nothing yet.
    if (outcome.kind === 'fail' && ctx?.relay) await ctx.relay.error({ code: outcome.error.code, message: outcome.error.message });
    this.events.emit('chat:outcome', { jobId: job.jobId, data, outcome, durationMs });
    return outcome;
  }

  async #run<D extends { created_at: number; deadline_at?: number | undefined }, R>(
    raw: unknown,
    job: JobContext,
    decode: (raw: unknown) => D,
    work: (data: D, startedAt: number) => Promise<R>,
    committed: () => boolean = () => false,
  ): Promise<{ outcome: Outcome<R>; data: D | undefined; durationMs: number }> {
    const { clock } = this.#deps;
    const startedAt = clock.now();
    let data: D | undefined;
    let outcome: Outcome<R>;
    try {
      data = decode(raw);
      const deadlineAt = this.deadlineOf(data);
      if (startedAt >= deadlineAt) throw deadlineExceeded(deadlineAt);
      outcome = { kind: 'ok', result: await work(data, startedAt) };
    } catch (err) {
      const deadlineAt = data ? this.deadlineOf(data) : Number.POSITIVE_INFINITY;
      // Once part of an answer reached a client, another attempt cannot be retried unseen.
      outcome = decideOutcome(err, { now: clock.now(), deadlineAt, lastAttempt: job.lastAttempt || committed() });
    }
    return { outcome, data, durationMs: clock.now() - startedAt };
  }

  async #predict(data: PredictionJobData, job: JobContext, startedAt: number): Promise<PredictionResult> {
    const { config, clock, cache } = this.#deps;
    const ctx = predictionContext(data, job, preparePrediction(config, data), startedAt);
    const lmDeps = { lm: this.#deps.lmFor(ctx.route), clock, events: this.events, cost: this.#deps.cost, guard: this.#deps.guard };
    const compute = () => computePrediction(lmDeps, ctx);
    if (!cache) return compute();
    const lookup = { route: ctx.route.name, model: ctx.route.model, signal: job.signal };
    return withCache({ cache, events: this.events }, lookup, predictionCacheKind(config, ctx, clock), compute);
  }

  #chatContext(data: ChatJobData, job: JobContext, startedAt: number): ChatContext {
    const route = routeNamed(this.#deps.config, data.route);
    if (!route) throw new ValidationError('unknown_model', `route "${data.route}" is not configured on this process`);
    return { data, job, route, startedAt, streamed: false, relay: data.stream ? this.#deps.relayFor?.(job.jobId) : undefined };
  }

  async #chat(ctx: ChatContext): Promise<ChatResult> {
    const { config, clock, cache } = this.#deps;
    const lmDeps = { lm: this.#deps.lmFor(ctx.route), clock, events: this.events, cost: this.#deps.cost, guard: this.#deps.guard };
    const compute = () => computeChat(lmDeps, ctx);
    if (!cache) return compute();
    const lookup = { route: ctx.route.name, model: ctx.route.model, signal: ctx.job.signal };
    const result = await withCache({ cache, events: this.events }, lookup, chatCacheKind(config, ctx, clock), compute);
    await replayChat(ctx, result);
    return result;
  }
}
