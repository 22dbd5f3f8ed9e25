// Request statistics for GET /sim/stats, in fixed memory: the rate window is a ring of
// buckets and per-model counters are capped.

export type Outcome = 'ok' | 'error' | 'rate_limited' | 'hang' | 'outage' | 'bad_request' | 'aborted';

export interface ModelStats {
  requests: number;
  ok: number;
  /** Answers bent by the answer faults (divergence_rate, variation_rate, unformatted_rate). */
  diverged: number;
  varied: number;
  unformatted: number;
  prompt_tokens: number;
  completion_tokens: number;
}

export interface SimStatsSnapshot {
  /** Every chat completion request received, whatever became of it. */
  requests: number;
  outcomes: Record<Outcome, number>;
  /** Most requests received within any 1 s sliding window (100 ms steps). */
  max_rps_1s: number;
  /** Requests received in the last second. */
  rps_1s: number;
  in_flight: number;
  tokens: { prompt: number; completion: number };
  by_model: Record<string, ModelStats>;
}

export interface Clock {
  now(): number;
}

const BUCKET_MS = 100;
const BUCKETS = 10; // BUCKETS * BUCKET_MS = the 1 s window
/** Model names come from clients; past this many, the rest are counted together. */
export const MAX_TRACKED_MODELS = 100;
export const OTHER_MODELS = '(other)';

export class SimStats {
  private requests = 0;
  private outcomes = emptyOutcomes();
  private maxRps = 0;
  private inFlight = 0;
  private promptTokens = 0;
  private completionTokens = 0;
  private byModel = new Map<string, ModelStats>();
  private readonly bucketCounts = new Array<number>(BUCKETS).fill(0);
  private readonly bucketSlots = new Array<number>(BUCKETS).fill(-1);

  constructor(private readonly clock: Clock = Date) {}

  /** A chat completion request arrived. */
  received(): void {
    this.requests += 1;
    this.inFlight += 1;
    const slot = Math.floor(this.clock.now() / BUCKET_MS);
    const index = slot % BUCKETS;
    if (this.bucketSlots[index] !== slot) {
      this.bucketSlots[index] = slot;
      this.bucketCounts[index] = 0;
    }
    this.bucketCounts[index]! += 1;
    this.maxRps = Math.max(this.maxRps, this.windowCount(slot));
  }

  /** The request's connection is gone (answered or abandoned). */
  left(): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
  }

  /** Attributes a request to its model, once its body has been read. */
  model(model: string): void {
    this.modelStats(model).requests += 1;
  }

  outcome(outcome: Outcome): void {
    this.outcomes[outcome] += 1;
  }

  served(model: string, promptTokens: number, completionTokens: number): void {
    this.outcomes.ok += 1;
    this.promptTokens += promptTokens;
    this.completionTokens += completionTokens;
    const stats = this.modelStats(model);
    stats.ok += 1;
    stats.prompt_tokens += promptTokens;
    stats.completion_tokens += completionTokens;
  }

  /** An answer the answer faults bent. */
  answered(model: string, how: 'diverged' | 'varied' | 'unformatted'): void {
    this.modelStats(model)[how] += 1;
  }

  /** Clears the counters; `in_flight` keeps counting the connections still open. */
  reset(): void {
    this.requests = 0;
    this.outcomes = emptyOutcomes();
    this.maxRps = 0;
    this.promptTokens = 0;
    this.completionTokens = 0;
    this.byModel = new Map();
    this.bucketCounts.fill(0);
    this.bucketSlots.fill(-1);
  }

  snapshot(): SimStatsSnapshot {
    return {
      requests: this.requests,
      outcomes: { ...this.outcomes },
      max_rps_1s: this.maxRps,
      rps_1s: this.windowCount(Math.floor(this.clock.now() / BUCKET_MS)),
      in_flight: this.inFlight,
      tokens: { prompt: this.promptTokens, completion: this.completionTokens },
      by_model: Object.fromEntries([...this.byModel].map(([name, stats]) => [name, { ...stats }])),
    };
  }

  private windowCount(slot: number): number {
    let sum = 0;
    for (let i = 0; i < BUCKETS; i += 1) {
      if (this.bucketSlots[i]! > slot - BUCKETS) sum += this.bucketCounts[i]!;
    }
    return sum;
  }

  private modelStats(model: string): ModelStats {
    const key = this.byModel.has(model) || this.byModel.size < MAX_TRACKED_MODELS ? model : OTHER_MODELS;
    let stats = this.byModel.get(key);
    if (!stats) {
      stats = { requests: 0, ok: 0, diverged: 0, varied: 0, unformatted: 0, prompt_tokens: 0, completion_tokens: 0 };
      this.byModel.set(key, stats);
    }
    return stats;
  }
}

function emptyOutcomes(): Record<Outcome, number> {
  return { ok: 0, error: 0, rate_limited: 0, hang: 0, outage: 0, bad_request: 0, aborted: 0 };
}
