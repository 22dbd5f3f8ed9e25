// Experiment statistics, guardrails and shadow comparisons, hung off the pipeline's outcomes.
// Every run of an experiment's prediction is counted in Redis for its variant (so all workers
// add up); after a variant's run, its guardrail is checked (at most once a second per variant
// per process) and a variant over its margin is paused for everyone. A shadow run is counted
// apart, and its outputs are paired with its control's: whichever finishes second compares.
import {
  ExperimentStats,
  ExperimentStore,
  compareOutputs,
  guardrailVerdict,
  microsToUsd,
  type Clock,
  type Logger,
  type Metrics,
  type OutcomeEvent,
  type PipelineEvents,
} from '@predictq/core';

export interface ExperimentObserverDeps {
  store: ExperimentStore;
  stats: ExperimentStats;
  metrics: Metrics;
  logger: Logger;
  clock: Clock;
}

const GUARDRAIL_EVERY_MS = 1000;

export function observeExperiments(events: PipelineEvents, deps: ExperimentObserverDeps): void {
  const { stats, logger } = deps;
  const lastChecked = new Map<string, number>();
  const warn = (what: string) => (err: Error) => logger.warn({ err: { message: err.message } }, what);

  events.on('prediction:outcome', (event) => {
    const { data } = event;
    if (!data) return;
    if (data.shadow) return void onShadow(event).catch(warn('shadow statistics not recorded'));
    if (data.experiment && data.variant) void onVariant(event).catch(warn('experiment statistics not recorded'));
  });

  async function onVariant({ jobId, data, outcome }: OutcomeEvent): Promise<void> {
    const experiment = data!.experiment!;
    const variant = data!.variant!;
    if (outcome.kind === 'wait') return;
    if (outcome.kind === 'ok') {
      const { result } = outcome;
      await stats.record(experiment, variant, {
        kind: 'ok',
        degraded: result.degraded,
        cacheHit: result.cache.hit,
        costMicros: result.cost_micros ?? 0,
        latencyMs: result.timings.queue_ms + result.timings.total_ms,
      });
    } else {
      await stats.record(experiment, variant, { kind: outcome.kind });
    }
    if (data!.shadow_id) await pairSide(experiment, jobId, 'control', outcome.kind === 'ok' ? outcome.result.outputs : outcome.kind === 'fail' ? null : undefined);
    await checkGuardrail(experiment, variant);
  }

  async function onShadow({ data, outcome }: OutcomeEvent): Promise<void> {
    const { experiment, control_id: controlId } = data!.shadow!;
    const label = deps.metrics.experimentLabel.of(experiment);
    if (outcome.kind === 'wait' || outcome.kind === 'retry') return;
    const ok = outcome.kind === 'ok';
    const costMicros = ok ? (outcome.result.cost_micros ?? 0) : 0;
    deps.metrics.shadowPredictions.inc({ experiment: label, status: ok ? 'succeeded' : 'failed' });
    deps.metrics.shadowCostUsd.inc({ experiment: label }, microsToUsd(costMicros));
    await stats.recordShadow(experiment, { ok, costMicros, at: deps.clock.now() });
    await pairSide(experiment, controlId, 'shadow', ok ? outcome.result.outputs : null);
  }

  async function pairSide(experiment: string, controlId: string, side: 'control' | 'shadow', outputs: Record<string, unknown> | null | undefined) {
    if (outputs === undefined) return;
    const pair = await stats.pair(experiment, controlId, side, outputs);
    if (!pair || pair.control === null || pair.shadow === null) return;
    const agreement = compareOutputs(pair.control, pair.shadow);
    await stats.recordAgreement(experiment, agreement);
    const match = agreement.exact ? 'exact' : agreement.normalized ? 'normalized' : 'none';
    deps.metrics.shadowComparisons.inc({ experiment: deps.metrics.experimentLabel.of(experiment), match });
  }

  async function checkGuardrail(experiment: string, variant: string): Promise<void> {
    const key = `${experiment}\u0000${variant}`;
    const now = deps.clock.now();
    if (now - (lastChecked.get(key) ?? 0) < GUARDRAIL_EVERY_MS) return;
    lastChecked.set(key, now);
    const loaded = await deps.store.get(experiment);
    if (!loaded?.definition.guardrails || variant === loaded.definition.control || loaded.paused.has(variant)) return;
    const control = loaded.definition.control;
    const counts = await stats.variants(experiment, [control, variant]);
    const verdict = guardrailVerdict(loaded.definition, counts[control]!, counts[variant]!, loaded.baselines.get(variant), now);
    if (!verdict || !(await deps.store.pause(experiment, variant, verdict))) return;
    deps.metrics.guardrailPauses.inc({ experiment: deps.metrics.experimentLabel.of(experiment), variant: deps.metrics.variantLabel.of(variant), reason: verdict.reason });
    logger.warn({ experiment, variant, reason: verdict.reason, ...verdict.details }, 'experiment variant paused by its guardrail: its traffic goes to the control');
  }
}

