// The one decision: wait while the deadline allows, retry real errors while attempts remain, else fail.
import { describe, expect, it } from 'vitest';
import { LmError, PredictqError, WaitError } from '../errors/index.js';
import { decideOutcome } from './outcome.js';

const facts = { now: 1_000, deadlineAt: 10_000, lastAttempt: false };

describe('decideOutcome', () => {
  it('waits until now + delay, keeping the reason, while that is within the deadline', () => {
    const wait = new WaitError('lm_circuit_open', 'open', 5_000, 'circuit_open');
    expect(decideOutcome(wait, facts)).toMatchObject({ kind: 'wait', until: 6_000, reason: 'circuit_open', error: wait });
    // A wait never spends an attempt: even on the last one it waits.
    expect(decideOutcome(wait, { ...facts, lastAttempt: true })).toMatchObject({ kind: 'wait' });
  });

  it('fails with deadline_exceeded, naming what it waited for, when the wait would end past the deadline', () => {
    const outcome = decideOutcome(new WaitError('lm_rate_limited', 'window', 9_001, 'rate_window'), facts);
    expect(outcome.kind).toBe('fail');
    expect(outcome.kind === 'fail' && outcome.error.code).toBe('deadline_exceeded');
    expect(outcome.kind === 'fail' && outcome.error.details).toMatchObject({ waiting_for: 'rate_window', deadline: new Date(10_000).toISOString() });
  });

  it('retries retryable errors while attempts remain, and fails them on the last attempt', () => {
    const upstream = new LmError('lm_upstream_error', '500');
    expect(decideOutcome(upstream, facts)).toEqual({ kind: 'retry', error: upstream });
    expect(decideOutcome(upstream, { ...facts, lastAttempt: true })).toEqual({ kind: 'fail', error: upstream });
  });

  it('fails at once what retrying cannot fix, and turns unknown throws into internal_error (retried)', () => {
    expect(decideOutcome(new LmError('lm_client_error', '400'), facts)).toMatchObject({ kind: 'fail', error: { code: 'lm_client_error' } });
    expect(decideOutcome(new PredictqError('unparseable_reply', 'x'), facts)).toMatchObject({ kind: 'fail' });
    expect(decideOutcome(new PredictqError('budget_exceeded', 'spent'), facts)).toMatchObject({ kind: 'fail' });
    expect(decideOutcome(new TypeError('bug'), facts)).toMatchObject({ kind: 'retry', error: { code: 'internal_error' } });
  });
});
