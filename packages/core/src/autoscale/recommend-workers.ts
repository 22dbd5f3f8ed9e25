// How many worker processes the queues call for: the one signal that the local supervisor
// (npm start) and Kubernetes (KEDA, through dspy_workers_recommended) both scale on. Pure: the
// loads are read elsewhere (route-loads.ts). Every worker process runs every route, so the
// route that needs the most workers decides; a route never asks for more workers than its
// RPM/TPM limits and its breaker let it use (adding workers there would only make jobs wait).
import type { RouteLimits } from '../config/index.js';
import type { BreakerState } from '../resilience/index.js';

/** LM call time assumed for a route before any of its calls has finished (seconds). */
export const ASSUMED_LM_SECONDS = 1;

/** What one route's queue and guards look like now. */
export interface RouteLoad {
  route: string;
  /** Jobs one worker process runs at once on this route. */
  concurrency: number;
  /** Jobs ready to run: waiting and prioritized (not delayed: those wait for a time, not a worker). */
  backlog: number;
  /** Jobs running now, on any worker. */
  active: number;
  /** Age of the oldest job ready to run, seconds (0 when none waits). */
  oldestWaitingS: number;
  breaker: BreakerState;
  /** How long an LM 429 still pauses the route, ms (0: not paused). */
  pausedMs: number;
  limits: RouteLimits;
  /** Mean time of the route's recent LM calls, seconds; undefined before any finished. */
  lmSeconds?: number | undefined;
  /** Mean tokens of the route's recent LM calls; undefined before any finished. */
  tokensPerCall?: number | undefined;
  /** Tokens assumed per call before any finished (the route's default max_tokens). */
  defaultTokensPerCall: number;
}

export type ScaleLimit = 'rpm' | 'tpm' | 'breaker_open' | 'breaker_half_open' | 'paused';

export interface RouteRecommendation {
  route: string;
  backlog: number;
  active: number;
  oldest_waiting_s: number;
  /** Workers the route's running and ready jobs would keep busy. */
  wanted: number;
  /** Most workers the route can use (null: nothing limits it). */
  cap: number | null;
  /** What sets the cap, when it is below what the jobs want. */
  limited_by: ScaleLimit | null;
  /** min(wanted, cap). */
  workers: number;
  /** Share of the route's worker slots in use (present when the number of workers is known). */
  utilisation?: number;
}

export interface Recommendation {
  /** Worker processes called for: the most any route needs (0 when nothing runs or waits). */
  workers: number;
  routes: RouteRecommendation[];
  /** Why, in one line: the deciding route, its load and its limit. */
  reason: string;
}

export interface RecommendOptions {
  /**
   * Target share of worker slots in use: 1 fills every slot; less leaves headroom (the
   * supervisor scales down only to where utilisation stays under its threshold).
   */
  utilisation?: number;
  /** Worker processes running now, to report utilisation. */
  workers?: number;
}

/** Most workers a route can keep busy within its rate limits and breaker, or null when unbounded. */
export function routeCap(load: RouteLoad): { cap: number | null; limitedBy: ScaleLimit | null } {
  if (load.breaker === 'open') return { cap: 0, limitedBy: 'breaker_open' };
  if (load.pausedMs > 0) return { cap: 0, limitedBy: 'paused' };
  if (load.breaker === 'half_open') return { cap: 1, limitedBy: 'breaker_half_open' };
  const { rpm, tpm } = load.limits;
  if (!rpm && !tpm) return { cap: null, limitedBy: null };
  // Little's law: calls in flight = calls per second x seconds per call.
  const seconds = load.lmSeconds ?? ASSUMED_LM_SECONDS;
  const tokens = Math.max(1, load.tokensPerCall ?? load.defaultTokensPerCall);
  const byRpm = rpm ? rpm / 60 : Infinity;
  const byTpm = tpm ? tpm / 60 / tokens : Infinity;
  const callsPerSecond = Math.min(byRpm, byTpm);
  const slots = Math.max(1, Math.ceil(callsPerSecond * seconds));
  return { cap: Math.ceil(slots / load.concurrency), limitedBy: byRpm <= byTpm ? 'rpm' : 'tpm' };
}

function describe(r: RouteRecommendation, load: RouteLoad | undefined): string {
  const jobs = `${r.backlog} ready + ${r.active} running jobs`;
  const wants = `want ${r.wanted} worker${r.wanted === 1 ? '' : 's'} (${load?.concurrency ?? '?'} jobs each)`;
  if (r.limited_by === null || r.cap === null || r.cap >= r.wanted) return `route ${r.route}: ${jobs} ${wants}`;
  const limit: Record<ScaleLimit, string> = {
    rpm: `its rpm limit (${load?.limits.rpm}/min at ${(load?.lmSeconds ?? ASSUMED_LM_SECONDS).toFixed(2)} s per call) can use`,
    tpm: `its tpm limit (${load?.limits.tpm}/min at ${Math.round(load?.tokensPerCall ?? load?.defaultTokensPerCall ?? 0)} tokens per call) can use`,
    breaker_open: 'its breaker is open: it can use',
    breaker_half_open: 'its breaker is half-open (one probe): it can use',
    paused: 'an LM 429 pauses it: it can use',
  };
  return `route ${r.route}: ${jobs} ${wants}, but ${limit[r.limited_by]} ${r.cap}`;
}

export function recommendWorkers(loads: readonly RouteLoad[], options: RecommendOptions = {}): Recommendation {
  const target = options.utilisation ?? 1;
  if (!(target > 0 && target <= 1)) throw new RangeError(`utilisation must be in (0, 1], got ${target}`);
  const routes = loads.map((load): RouteRecommendation => {
    const demand = load.active + load.backlog;
    const wanted = Math.ceil(demand / (load.concurrency * target));
    const { cap, limitedBy } = routeCap(load);
    const workers = cap === null ? wanted : Math.min(wanted, cap);
    return {
      route: load.route,
      backlog: load.backlog,
      active: load.active,
      oldest_waiting_s: load.oldestWaitingS,
      wanted,
      cap,
      limited_by: cap !== null && cap < wanted ? limitedBy : null,
      workers,
      ...(options.workers ? { utilisation: Number((load.active / (options.workers * load.concurrency)).toFixed(3)) } : {}),
    };
  });
  // Ties go to the route with the most waiting, so the reason names the busiest one.
  const deciding = [...routes].sort((a, b) => b.workers - a.workers || b.backlog - a.backlog)[0];
  const workers = deciding?.workers ?? 0;
  const reason =
    deciding === undefined || (deciding.wanted === 0 && deciding.backlog === 0)
      ? 'no job is running or ready'
      : describe(deciding, loads.find((l) => l.route === deciding.route));
  return { workers, routes, reason };
}
