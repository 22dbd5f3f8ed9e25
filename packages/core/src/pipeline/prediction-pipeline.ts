// The prediction pipeline a worker runs for every job: small stages over one context, with
// dependencies passed in, ending in ONE outcome (ok | wait | retry | fail).
//
//   decode job data -> deadline -> prompt -> [cache lookup + single-flight]
//     -> on a miss: budget -> breaker -> admission -> LM call -> settle -> parse -> [cache fill]
import type { TieredCache } from '../cache/index.js';
import type { Clock } from '../clock/index.js';
import type { Config, RouteConfig } from '../config/index.js';
import type { CostTracker } from '../cost/index.js';
import { PredictqError } from '../errors/index.js';
import type { LmCaller } from '../lm/index.js';
import { PredictionJobDataSchema, type PredictionJobData, type PredictionResult } from '../queue/index.js';
import type { LmGuard } from '../resilience/index.js';
import { withCache } from './cache-stage.js';
import { predictionContext, type JobContext } from './context.js';
import { PipelineEvents } from './events.js';
import { computePrediction } from './lm-stage.js';
import { deadlineExceeded, decideOutcome, type Outcome } from './outcome.js';
import { preparePrediction } from './prepare.js';

export interface PipelineDeps {
  config: Config;
  /** The LM client of a route. */
  lmFor(route: RouteConfig): LmCaller;
  clock: Clock;
  events?: PipelineEvents;
  /** Prices, budget reservations and the usage ledger; without it predictions cost 0. */
  cost?: CostTracker;
  /** Rate limits, circuit breaker, call timeout; without it calls go straight out. */
  guard?: LmGuard;
  /** The shared two-level cache with single-flight; without it every job calls the LM. */
  cache?: TieredCache;
}

/** The job data as a worker reads it; anything else fails the job at once. */
export function decodeJob(raw: unknown): PredictionJobData {
  const parsed = PredictionJobDataSchema.safeParse(raw);
  if (!parsed.success) throw new PredictqError('invalid_request', `the job data is malformed: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data;
}

export class PredictionPipeline {
  readonly events: PipelineEvents;
  readonly #deps: PipelineDeps;

  constructor(deps: PipelineDeps) {
    this.#deps = deps;
    this.events = deps.events ?? new PipelineEvents();
  }

  /** When a prediction stops waiting: its own deadline, else the configured one from its creation. */
  deadlineOf(data: PredictionJobData): number {
    return data.deadline_at ?? data.created_at + this.#deps.config.queue.deadline_s * 1000;
  }

  async run(raw: unknown, job: JobContext): Promise<Outcome> {
    const { clock } = this.#deps;
    const startedAt = clock.now();
    let data: PredictionJobData | undefined;
    let outcome: Outcome;
    try {
      data = decodeJob(raw);
      outcome = { kind: 'ok', result: await this.#predict(data, job, startedAt) };
    } catch (err) {
      const deadlineAt = data ? this.deadlineOf(data) : Number.POSITIVE_INFINITY;
      outcome = decideOutcome(err, { now: clock.now(), deadlineAt, lastAttempt: job.lastAttempt });
    }
    this.events.emit('prediction:outcome', { jobId: job.jobId, data, outcome, durationMs: clock.now() - startedAt });
    return outcome;
  }

  async #predict(data: PredictionJobData, job: JobContext, startedAt: number): Promise<PredictionResult> {
    const { config, clock, cache } = this.#deps;
    const deadlineAt = this.deadlineOf(data);
    if (startedAt >= deadlineAt) throw deadlineExceeded(deadlineAt);
    const ctx = predictionContext(data, job, preparePrediction(config, data), startedAt);
    const lmDeps = { lm: this.#deps.lmFor(ctx.route), clock, events: this.events, cost: this.#deps.cost, guard: this.#deps.guard };
    const compute = () => computePrediction(lmDeps, ctx);
    return cache ? withCache({ cache, config, clock, events: this.events }, ctx, compute) : compute();
  }
}
