// A shadow run whose experiment has spent its daily shadow cap (or whose shadow was removed)
// is skipped before it reaches the pipeline: it completes without an LM call. The cap can be
// passed by the shadow runs already in flight when it is reached, never by more.
import { usdToMicros, type ExperimentStats, type ExperimentStore, type Clock, type PredictionJobData } from '@predictq/core';

export interface ShadowGateDeps {
  store: ExperimentStore;
  stats: ExperimentStats;
  clock: Clock;
}

/** Why a shadow job should not run now, or undefined to run it. */
export async function shadowSkipReason(deps: ShadowGateDeps, data: PredictionJobData): Promise<'shadow_cap' | 'no_shadow' | undefined> {
  const experiment = data.shadow!.experiment;
  const loaded = await deps.store.get(experiment);
  const shadow = loaded?.definition.shadow;
  if (!shadow || shadow.variant !== data.variant) return 'no_shadow';
  const spent = await deps.stats.shadowCostToday(experiment, deps.clock.now());
  return spent >= usdToMicros(shadow.max_usd_per_day) ? 'shadow_cap' : undefined;
}
