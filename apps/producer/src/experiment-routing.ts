// The producer's side of experiments: a request naming an `experiment` gets its variant here,
// before it is enqueued (a variant may change the program, the route and so the queue): sticky
// by a hash of the experiment and the `subject`, or per request (the prediction id) without
// one; a paused variant's subjects are served by the control. A sampled share of the control's
// predictions also gets a shadow run of the shadow variant, as a background job of its own.
import {
  ExperimentStats,
  ExperimentStore,
  PredictqError,
  assignVariant,
  sampledForShadow,
  shadowIdOf,
  usdToMicros,
  type Clock,
  type Config,
  type LoadedExperiment,
  type Logger,
  type Metrics,
  type PredictionJobData,
  type ResolvedProgram,
} from '@predictq/core';
import type { PredictionRequest, ResolveContext, ResolvedPrediction, VariantChoice } from './prediction-request.js';
import { resolvePrediction } from './prediction-request.js';

export interface Routed {
  loaded: LoadedExperiment;
  choice: VariantChoice;
}

export interface ExperimentRoutingDeps {
  config: Config;
  store: ExperimentStore;
  stats: ExperimentStats;
  metrics: Metrics;
  logger: Logger;
  clock: Clock;
}

export class ExperimentRouting {
  readonly store: ExperimentStore;
  readonly stats: ExperimentStats;
  readonly #deps: ExperimentRoutingDeps;

  constructor(deps: ExperimentRoutingDeps) {
    this.#deps = deps;
    this.store = deps.store;
    this.stats = deps.stats;
  }

  /** The request's variant; undefined when it names no experiment; unknown_experiment for one that does not exist. */
  async route(request: PredictionRequest, predictionId: string): Promise<Routed | undefined> {
    if (request.experiment === undefined) return undefined;
    const loaded = await this.store.get(request.experiment);
    if (!loaded) throw new PredictqError('unknown_experiment', `no experiment "${request.experiment}"`);
    const paused = new Set(loaded.paused.keys());
    const assignment = assignVariant(loaded.name, loaded.definition, request.subject ?? predictionId, paused);
    const { metrics } = this.#deps;
    metrics.experimentAssignments.inc({
      experiment: metrics.experimentLabel.of(loaded.name),
      variant: metrics.variantLabel.of(assignment.pausedVariant ?? assignment.variant),
      outcome: assignment.pausedVariant ? 'paused' : 'assigned',
    });
    return { loaded, choice: choiceOf(loaded, assignment.variant) };
  }

  /**
   * The shadow run of a control prediction, when it is sampled and the shadow's daily cap has
   * room; undefined otherwise (and when the shadow cannot take the request's inputs: the
   * caller's prediction never fails for its shadow).
   */
  async shadowOf(
    routed: Routed,
    request: PredictionRequest,
    control: ResolvedPrediction,
    predictionId: string,
    lookupProgram: (ref: string | undefined) => Promise<ResolvedProgram | undefined>,
    context: Omit<ResolveContext, 'program' | 'variant'>,
  ): Promise<PredictionJobData | undefined> {
    const { loaded, choice } = routed;
    const shadow = loaded.definition.shadow;
    if (!shadow || choice.variant !== loaded.definition.control || !sampledForShadow(predictionId, shadow.sample_rate)) return undefined;
    if ((await this.stats.shadowCostToday(loaded.name, this.#deps.clock.now())) >= usdToMicros(shadow.max_usd_per_day)) return undefined;
    try {
      const variant = choiceOf(loaded, shadow.variant);
      const program = await lookupProgram(variant.program ?? request.program);
      const { data } = resolvePrediction(this.#deps.config, request, { ...context, program, variant });
      // Low priority, and it never calls the caller back.
      const { callback_url: _callback, ...shadowData } = data;
      control.data.shadow_id = shadowIdOf(predictionId);
      return { ...shadowData, priority: 'batch', shadow: { experiment: loaded.name, control_id: predictionId } };
    } catch (err) {
      this.#deps.logger.warn({ experiment: loaded.name, variant: shadow.variant, err: { message: (err as Error).message } }, 'shadow run skipped: the shadow variant cannot take this request');
      return undefined;
    }
  }
}

function choiceOf(loaded: LoadedExperiment, variantName: string): VariantChoice {
  const variant = loaded.definition.variants[variantName]!;
  return { experiment: loaded.name, variant: variantName, program: variant.program, model: variant.model, params: variant.params };
}
