import { describe, expect, it } from 'vitest';
import { AutoscaleSettingsSchema, type RouteLoad } from '@predictq/core';
import { ScalePolicy } from './scale-policy.js';

const SETTINGS = AutoscaleSettingsSchema.parse({
  min: 1,
  max: 3,
  interval_ms: 1000,
  scale_up_cooldown_ms: 5000,
  scale_down_delay_ms: 10_000,
  scale_down_utilisation: 0.7,
  max_backlog_age_s: 30,
});

function load(overrides: Partial<RouteLoad> = {}): RouteLoad {
  return {
    route: 'default',
    concurrency: 10,
    backlog: 0,
    active: 0,
    oldestWaitingS: 0,
    breaker: 'closed',
    pausedMs: 0,
    limits: {},
    defaultTokensPerCall: 256,
    ...overrides,
  };
}

/** Runs the policy once a second over `seconds` with the same load; returns the count after. */
function run(policy: ScalePolicy, start: { now: number; current: number }, seconds: number, loads: RouteLoad[]) {
  let { now, current } = start;
  const changes: Array<{ at: number; to: number; reason: string }> = [];
  for (let i = 0; i < seconds; i++) {
    now += 1000;
    const d = policy.decide(now, current, loads);
    if (d.changed) changes.push({ at: now, to: d.desired, reason: d.reason });
    current = d.desired;
  }
  return { now, current, changes };
}

describe('ScalePolicy', () => {
  it('comes up to min, then at once to what the backlog fills, capped at max, with the reason', () => {
    const policy = new ScalePolicy(SETTINGS);
    expect(policy.decide(0, 0, [load()])).toMatchObject({ desired: 1, changed: true, reason: 'below min 1' });
    const burst = policy.decide(1000, 1, [load({ backlog: 2000, active: 10, oldestWaitingS: 1 })]);
    expect(burst).toMatchObject({ desired: 3, changed: true });
    expect(burst.reason).toBe('route default: 2000 ready + 10 running jobs want 201 workers (10 jobs each) (max 3)');
  });

  it('waits out the scale-up cooldown before scaling up again', () => {
    const policy = new ScalePolicy({ ...SETTINGS, max: 10 });
    expect(policy.decide(0, 1, [load({ backlog: 20 })]).desired).toBe(2);
    const held = policy.decide(1000, 2, [load({ backlog: 60 })]);
    expect(held).toMatchObject({ desired: 2, changed: false });
    expect(held.reason).toMatch(/scale-up cooldown for 4000 ms$/);
    expect(policy.decide(5000, 2, [load({ backlog: 60 })]).desired).toBe(6);
  });

  it('scales back to min only after the backlog has been gone for the whole delay', () => {
    const policy = new ScalePolicy(SETTINGS);
    policy.decide(0, 0, [load()]);
    policy.decide(0, 1, [load({ backlog: 500 })]);
    // Draining: three full workers.
    let state = run(policy, { now: 0, current: 3 }, 20, [load({ backlog: 100, active: 30 })]);
    expect(state.current).toBe(3);
    // Nothing waits and 9 jobs run: 1 worker would be busy enough, 2 keep them under 0.7 (9 of 20 slots).
    state = run(policy, state, 9, [load({ active: 9 })]);
    expect(state.current).toBe(3);
    state = run(policy, state, 2, [load({ active: 9 })]);
    expect(state.current).toBe(2);
    expect(state.changes.at(-1)!.reason).toBe('route default: 0 ready + 9 running jobs want 1 worker (10 jobs each); 2 did for all of the last 10000 ms (utilisation under 0.7)');
    state = run(policy, state, 11, [load()]);
    expect(state.current).toBe(1);
    expect(state.changes.at(-1)!.reason).toBe('no job is running or ready; 1 did for all of the last 10000 ms (utilisation under 0.7)');
  });

  it('keeps the highest recommendation of the delay window: a short lull does not scale down', () => {
    const policy = new ScalePolicy(SETTINGS);
    policy.decide(0, 0, [load()]);
    let state = { now: 0, current: 3 };
    for (let i = 0; i < 6; i++) {
      state = run(policy, state, 4, [load()]);
      state = run(policy, state, 1, [load({ backlog: 20, active: 10 })]);
    }
    expect(state.current).toBe(3);
  });

  it('holds between the thresholds (hysteresis): 18 of 20 slots busy neither adds nor removes a worker', () => {
    const policy = new ScalePolicy(SETTINGS);
    policy.decide(0, 0, [load()]);
    const state = run(policy, { now: 0, current: 2 }, 60, [load({ active: 18 })]);
    expect(state.changes).toEqual([]);
  });

  it('does not scale down while a job has waited too long', () => {
    const policy = new ScalePolicy(SETTINGS);
    policy.decide(0, 0, [load()]);
    // A breaker-open route: its jobs wait, no worker can help, and none is taken away either.
    const state = run(policy, { now: 0, current: 3 }, 60, [load({ backlog: 50, breaker: 'open', oldestWaitingS: 45 })]);
    expect(state.current).toBe(3);
    expect(policy.decide(state.now + 1000, 3, [load({ backlog: 50, breaker: 'open', oldestWaitingS: 45 })]).reason).toBe(
      'a job has waited 45.0 s (over 30 s): no scale-down',
    );
  });

  it('never scales a route past what its rpm limit can use', () => {
    const policy = new ScalePolicy({ ...SETTINGS, max: 10 });
    policy.decide(0, 0, [load()]);
    // 300 rpm = 5 calls/s at 2 s per call: 10 in flight = 1 worker of 10 slots.
    const state = run(policy, { now: 0, current: 1 }, 30, [load({ backlog: 2000, limits: { rpm: 300 }, lmSeconds: 2 })]);
    expect(state.current).toBe(1);
    expect(policy.decide(state.now + 1000, 1, [load({ backlog: 2000, limits: { rpm: 300 }, lmSeconds: 2 })]).reason).toContain(
      'its rpm limit (300/min at 2.00 s per call) can use 1',
    );
  });
});
