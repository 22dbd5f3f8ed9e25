// When to change the number of worker processes: the recommendation (recommendWorkers, the
// signal KEDA scales on too) clamped to [min, max], with hysteresis and cool-downs so the
// count does not flap. Pure: time and loads are passed in.
//  - Up at once to what the jobs fill (utilisation 1), at most once per scale_up_cooldown_ms.
//  - Down only to a count that would stay under scale_down_utilisation, only when every
//    recommendation of the last scale_down_delay_ms allowed it (the highest of them wins, as
//    Kubernetes' HPA stabilisation window does), never sooner than that after any change, and
//    never while a job has waited longer than max_backlog_age_s.
import { recommendWorkers, type AutoscaleSettings, type Recommendation, type RouteLoad } from '@predictq/core';

export interface ScaleDecision {
  /** The count to run now. */
  desired: number;
  /** Whether it differs from the current count. */
  changed: boolean;
  reason: string;
  recommendation: Recommendation;
}

export class ScalePolicy {
  readonly settings: AutoscaleSettings;
  #lastUpAt = -Infinity;
  #lastChangeAt = -Infinity;
  /** Scale-down recommendations within the delay window. */
  #downs: Array<{ at: number; workers: number }> = [];

  constructor(settings: AutoscaleSettings) {
    this.settings = settings;
  }

  #clamp(n: number): number {
    return Math.min(this.settings.max, Math.max(this.settings.min, n));
  }

  decide(now: number, current: number, loads: readonly RouteLoad[]): ScaleDecision {
    const s = this.settings;
    const recommendation = recommendWorkers(loads, { workers: current });
    const up = this.#clamp(recommendation.workers);
    const down = this.#clamp(recommendWorkers(loads, { utilisation: s.scale_down_utilisation }).workers);
    this.#downs.push({ at: now, workers: down });
    this.#downs = this.#downs.filter((d) => now - d.at <= s.scale_down_delay_ms);
    const hold = (reason: string): ScaleDecision => ({ desired: current, changed: false, reason, recommendation });
    const change = (to: number, reason: string, cooldown = true): ScaleDecision => {
      this.#lastChangeAt = now;
      if (to > current && cooldown) this.#lastUpAt = now;
      this.#downs = [];
      return { desired: to, changed: true, reason, recommendation };
    };

    // Coming up to min (at start) is no scale-up: a burst right after it is answered at once.
    if (current < s.min) return change(s.min, `below min ${s.min}`, false);
    if (current > s.max) return change(s.max, `above max ${s.max}`);
    if (up > current) {
      const waitMs = this.#lastUpAt + s.scale_up_cooldown_ms - now;
      if (waitMs > 0) return hold(`${recommendation.reason}; scale-up cooldown for ${Math.ceil(waitMs)} ms`);
      const capped = up < recommendation.workers ? ` (max ${s.max})` : '';
      return change(up, `${recommendation.reason}${capped}`);
    }
    const stable = Math.max(...this.#downs.map((d) => d.workers));
    if (stable < current) {
      const oldest = Math.max(0, ...loads.map((l) => l.oldestWaitingS));
      if (oldest > s.max_backlog_age_s) return hold(`a job has waited ${oldest.toFixed(1)} s (over ${s.max_backlog_age_s} s): no scale-down`);
      const sinceChange = now - this.#lastChangeAt;
      if (sinceChange < s.scale_down_delay_ms) return hold(`${stable} would do; waiting ${Math.ceil(s.scale_down_delay_ms - sinceChange)} ms before scaling down`);
      return change(stable, `${recommendation.reason}; ${stable} did for all of the last ${s.scale_down_delay_ms} ms (utilisation under ${s.scale_down_utilisation})`);
    }
    return hold(recommendation.reason);
  }
}
