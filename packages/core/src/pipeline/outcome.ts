// The one outcome of a prediction job, and the one place it is decided. The job processor maps
// it to BullMQ and the observers count and log it; neither decides anything of its own.
import { PredictqError, WaitError, isRetryable, toPredictqError, type WaitReason } from '../errors/index.js';
import type { PredictionResult } from '../queue/index.js';

export type Outcome<R = PredictionResult> =
  /** A result (computed, cached, or a degraded fallback). */
  | { kind: 'ok'; result: R }
  /** Back to the queue until `until` without spending an attempt. */
  | { kind: 'wait'; until: number; reason: WaitReason; error: WaitError }
  /** This attempt failed; the queue runs the job again (with backoff). */
  | { kind: 'retry'; error: PredictqError }
  /** Failed for good. */
  | { kind: 'fail'; error: PredictqError };

export interface OutcomeFacts {
  now: number;
  /** When the prediction stops waiting (ms since epoch). */
  deadlineAt: number;
  /** No attempts remain after this one. */
  lastAttempt: boolean;
}

export function deadlineExceeded(deadlineAt: number, waitingFor?: WaitError): PredictqError {
  const by = new Date(deadlineAt).toISOString();
  const message = waitingFor
    ? `the prediction could not run by its deadline (${by}): ${waitingFor.message}`
    : `the prediction did not run by its deadline (${by})`;
  return new PredictqError('deadline_exceeded', message, {
    details: { deadline: by, ...(waitingFor ? { waiting_for: waitingFor.reason } : {}) },
  });
}

/** What a run that threw comes to: wait while the deadline allows, retry real errors while attempts remain, else fail. */
export function decideOutcome(thrown: unknown, facts: OutcomeFacts): Exclude<Outcome<never>, { kind: 'ok' }> {
  const error = toPredictqError(thrown);
  if (error instanceof WaitError) {
    const until = facts.now + error.delayMs;
    // A wait that ends past the deadline cannot help: fail now, saying what it waited for.
    if (until > facts.deadlineAt) return { kind: 'fail', error: deadlineExceeded(facts.deadlineAt, error) };
    return { kind: 'wait', until, reason: error.reason, error };
  }
  if (isRetryable(error) && !facts.lastAttempt) return { kind: 'retry', error };
  return { kind: 'fail', error };
}
