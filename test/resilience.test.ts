// The resilience building blocks against a real Redis, in one process: the shared breaker
// (two RouteBreakers stand for two workers), RPM/TPM windows, 429 pauses, ingest limits and
// the per-call signal.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import {
  BreakerStore,
  LOCAL_VERDICT_MS,
  ConfigSchema,
  IngestLimiter,
  LmError,
  RateLimits,
  ResilienceEvents,
  RouteBreaker,
  WaitError,
  callSignal,
  type BreakerSettings,
} from '@predictq/core';
import { until } from './utils/http.js';

const SETTINGS: BreakerSettings = {
  error_threshold_percentage: 50,
  volume_threshold: 3,
  reset_timeout_ms: 300,
  rolling_window_ms: 10_000,
};
const upstream = () => Promise.reject(new LmError('lm_upstream_error', 'boom', { status: 503 }));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code;
  }
}

describe('shared circuit breaker', () => {
  let redis: Redis;
  let prefix: string;
  const breakers: RouteBreaker[] = [];
  const make = (store: BreakerStore, events = new ResilienceEvents()) => {
    const breaker = new RouteBreaker({ route: 'r1', settings: SETTINGS, callTimeoutMs: 1000, store, events });
    breakers.push(breaker);
    return breaker;
  };
  beforeAll(() => {
    redis = new Redis(inject('redisUrl'));
    prefix = `t${randomUUID().slice(0, 8)}`;
  });
  afterAll(async () => {
    for (const b of breakers) b.shutdown();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  });

  it('opens for every worker when one worker sees failures, lets one probe through, and closes on its success', async () => {
    const store = new BreakerStore(redis, prefix);
    const events = new ResilienceEvents();
    const states: string[] = [];
    events.on('breaker:state', (e) => states.push(`${e.state}:${e.source}`));
    const a = make(store, events);
    const b = make(new BreakerStore(redis.duplicate(), prefix));

    // Worker A: three upstream failures in a row open its breaker; the third waits instead of failing.
    const codes = [];
    for (let i = 0; i < 3; i += 1) codes.push(await codeOf(a.admit().then((t) => a.call(t, upstream))));
    expect(codes).toEqual(['lm_upstream_error', 'lm_upstream_error', 'lm_circuit_open']);
    expect((await store.snapshot('r1')).state).toBe('open');

    // Worker B never failed, yet it stops at once.
    const waited = await b.admit().catch((err: unknown) => err);
    expect(waited).toBeInstanceOf(WaitError);
    expect((waited as WaitError).code).toBe('lm_circuit_open');
    expect((waited as WaitError).delayMs).toBeGreaterThan(0);
    expect(b.state).toBe('open');

    // After the reset timeout exactly one caller across both workers gets the probe.
    await sleep(SETTINGS.reset_timeout_ms + 50);
    const tickets = await Promise.allSettled([a, b, a, b, a, b].map((x) => x.admit()));
    const probes = tickets.filter((t) => t.status === 'fulfilled' && t.value === 'probe');
    expect(probes).toHaveLength(1);
    expect(tickets.filter((t) => t.status === 'rejected').every((t) => (t as PromiseRejectedResult).reason.code === 'lm_circuit_open')).toBe(true);

    // The probe succeeds: closed for everyone.
    const prober = tickets.findIndex((t) => t.status === 'fulfilled') % 2 === 0 ? a : b;
    await expect(prober.call('probe', async () => 'ok')).resolves.toBe('ok');
    expect((await store.snapshot('r1')).state).toBe('closed');
    expect(await a.admit()).toBe('call');
    expect(await b.admit()).toBe('call');
    expect(states).toEqual(['open:local', 'half_open:cluster', 'closed:probe']);
  });

  it("shares one Redis read among a worker's concurrent admissions of a route, but never the probe lease", async () => {
    const connection = redis.duplicate();
    const store = new BreakerStore(connection, prefix);
    const breaker = make(store);
    await breaker.admit(); // defines the script
    let asked = 0;
    const commands = connection as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    const original = commands.predictqBreakerAdmit!.bind(connection);
    commands.predictqBreakerAdmit = (...args: unknown[]) => (asked++, original(...args));
    try {
      expect(await Promise.all(Array.from({ length: 10 }, () => breaker.admit()))).toEqual(Array(10).fill('call'));
      expect(asked).toBeLessThan(10);

      await store.open('r1', 100, 'failures');
      await sleep(150);
      const tickets = await Promise.allSettled(Array.from({ length: 6 }, () => breaker.admit()));
      expect(tickets.filter((t) => t.status === 'fulfilled' && t.value === 'probe')).toHaveLength(1);
      expect(tickets.filter((t) => t.status === 'rejected').every((t) => (t as PromiseRejectedResult).reason.code === 'lm_circuit_open')).toBe(true);
      await store.close('r1');
    } finally {
      connection.disconnect();
    }
  });

  it('a failed probe opens it again for another reset period', async () => {
    const store = new BreakerStore(redis, prefix);
    const breaker = new RouteBreaker({ route: 'r2', settings: SETTINGS, callTimeoutMs: 1000, store, events: new ResilienceEvents() });
    breakers.push(breaker);
    await store.open('r2', 50, 'failures');
    await sleep(80);
    const ticket = await breaker.admit();
    expect(ticket).toBe('probe');
    expect(await codeOf(breaker.call(ticket, upstream))).toBe('lm_circuit_open');
    const snapshot = await store.snapshot('r2');
    expect(snapshot).toMatchObject({ state: 'open', reason: 'probe' });
  });

  it('counts only upstream-health failures: 4xx and 429 never open it', async () => {
    const store = new BreakerStore(redis, prefix);
    const breaker = new RouteBreaker({ route: 'r3', settings: SETTINGS, callTimeoutMs: 1000, store, events: new ResilienceEvents() });
    breakers.push(breaker);
    const clientError = () => Promise.reject(new LmError('lm_client_error', 'bad request', { status: 400 }));
    const rateLimited = () => Promise.reject(new LmError('lm_rate_limited', 'slow down', { status: 429 }));
    for (let i = 0; i < 10; i += 1) {
      expect(await codeOf(breaker.admit().then((t) => breaker.call(t, i % 2 ? clientError : rateLimited)))).toMatch(/^lm_(client_error|rate_limited)$/);
    }
    expect((await store.snapshot('r3')).state).toBe('closed');
    expect(breaker.state).toBe('closed');
  });
});

describe('breaker verdicts kept between changes (a subscriber per process)', () => {
  let redis: Redis;
  let prefix: string;
  const opened: Redis[] = [];
  const connect = () => {
    const connection = redis.duplicate();
    opened.push(connection);
    return connection;
  };
  /** A store for one process, counting the admissions it sends to Redis. */
  const processStore = async (options: { now?: () => number } = {}) => {
    const connection = connect();
    const subscriber = connect();
    const store = new BreakerStore(connection, prefix, { subscriber, ...options });
    await until(async () => store.listening, 5000, 10);
    let asked = 0;
    const commands = connection as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    await store.admit('r1', 1000); // defines the script
    const original = commands.predictqBreakerAdmit!.bind(connection);
    commands.predictqBreakerAdmit = (...args: unknown[]) => (asked++, original(...args));
    return { store, subscriber, asked: () => asked };
  };
  beforeAll(() => {
    redis = new Redis(inject('redisUrl'));
  });
  afterAll(async () => {
    for (const c of opened) c.disconnect();
    await redis.quit();
  });

  it('answers "closed" from its copy without asking Redis, until it is older than LOCAL_VERDICT_MS', async () => {
    prefix = `t${randomUUID().slice(0, 8)}`;
    const clock = { t: 1_000 };
    const { store, asked } = await processStore({ now: () => clock.t });
    for (let i = 0; i < 20; i++) expect(await store.admit('r1', 1000)).toEqual({ state: 'closed', pausedMs: expect.any(Number) });
    expect(asked()).toBe(0);
    clock.t += LOCAL_VERDICT_MS;
    expect((await store.admit('r1', 1000)).state).toBe('closed');
    expect(asked()).toBe(1);
  });

  // A frozen clock: the copy never ages out, so only the message can drop it.
  const frozen = () => 1_000;

  it('another process opening the breaker reaches it by message: its next admissions wait', async () => {
    prefix = `t${randomUUID().slice(0, 8)}`;
    const { store } = await processStore({ now: frozen });
    expect((await store.admit('r1', 1000)).state).toBe('closed');
    await new BreakerStore(connect(), prefix).open('r1', 30_000, 'failures');
    const verdict = await until(async () => {
      const v = await store.admit('r1', 1000);
      return v.state === 'open' ? v : undefined;
    }, 5000, 5);
    expect(verdict).toMatchObject({ state: 'open', waitMs: expect.any(Number) });
  });

  it('another process pausing the route after a 429 reaches it too, and then it is known without asking', async () => {
    prefix = `t${randomUUID().slice(0, 8)}`;
    const { store, asked } = await processStore({ now: frozen });
    expect((await store.admit('r1', 1000)).pausedMs).toBeLessThanOrEqual(0);
    const before = asked();
    const limits = new RateLimits(connect(), prefix, ConfigSchema.parse({ routes: [{ name: 'r1', model: 'm', base_url: 'http://127.0.0.1:1/v1' }] }).routes);
    await limits.pause('r1', 5000);
    const paused = await until(async () => {
      const v = await store.admit('r1', 1000);
      return v.pausedMs > 0 ? v : undefined;
    }, 5000, 5);
    expect(paused.pausedMs).toBeLessThanOrEqual(5000);
    // Read once after the message; the pause is then known here without asking again.
    const asks = asked();
    expect(asks).toBeGreaterThan(before);
    expect((await store.admit('r1', 1000)).pausedMs).toBeGreaterThan(0);
    expect(asked()).toBe(asks);
  });

  it('asks Redis for every admission while its subscriber is down (messages would be lost)', async () => {
    prefix = `t${randomUUID().slice(0, 8)}`;
    const { store, subscriber, asked } = await processStore();
    await store.admit('r1', 1000);
    subscriber.disconnect();
    await until(async () => !store.listening, 5000, 10);
    const before = asked();
    for (let i = 0; i < 3; i++) await store.admit('r1', 1000);
    expect(asked()).toBe(before + 3);
  });
});

describe('rate limits', () => {
  let redis: Redis;
  let prefix: string;
  beforeAll(() => {
    redis = new Redis(inject('redisUrl'));
    prefix = `t${randomUUID().slice(0, 8)}`;
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  });

  const config = (limits: Record<string, number>) =>
    ConfigSchema.parse({ routes: [{ name: 'r', model: 'm', base_url: 'http://127.0.0.1:1/v1', limits }] });

  it('spreads RPM over the minute (ceil(rpm/60) a second) and waits instead of failing', async () => {
    const limits = new RateLimits(redis, `${prefix}a`, config({ rpm: 120 }).routes);
    await limits.admit('r', () => 10);
    await limits.admit('r', () => 10);
    const third = await limits.admit('r', () => 10).catch((err: unknown) => err);
    expect(third).toBeInstanceOf(WaitError);
    expect((third as WaitError).code).toBe('lm_rate_limited');
    expect((third as WaitError).delayMs).toBeGreaterThan(0);
    expect((third as WaitError).delayMs).toBeLessThanOrEqual(1300);
    expect((third as WaitError).reason).toBe('rate_window');
  });

  it('reserves estimated tokens, corrects them with the real usage, and refunds calls never made', async () => {
    const limits = new RateLimits(redis, `${prefix}b`, config({ tpm: 1000 }).routes);
    const first = await limits.admit('r', () => 600);
    expect(await codeOf(limits.admit('r', () => 600))).toBe('lm_rate_limited');
    await limits.settle(first, 100); // the call used far less than its worst case
    const second = await limits.admit('r', () => 600);
    await limits.refund(second);
    await limits.admit('r', () => 800);
    expect(await codeOf(limits.admit('r', () => 200))).toBe('lm_rate_limited');
  });

  it('asks for the token estimate only on a route with a TPM limit', async () => {
    let asked = 0;
    const estimate = () => (asked++, 600);
    await new RateLimits(redis, `${prefix}d`, config({ rpm: 600 }).routes).admit('r', estimate);
    expect(asked).toBe(0);
    const tpm = new RateLimits(redis, `${prefix}e`, config({ tpm: 1000 }).routes);
    await tpm.admit('r', estimate);
    expect(asked).toBe(1);
    expect(await codeOf(tpm.admit('r', estimate))).toBe('lm_rate_limited');
  });

  it('pauses a route for every worker after a 429, and never shortens a pause', async () => {
    const limits = new RateLimits(redis, `${prefix}c`, config({}).routes);
    await limits.admit('r', () => 10); // no limits configured: admitted
    await limits.pause('r', 400);
    await limits.pause('r', 50);
    const other = new RateLimits(redis.duplicate(), `${prefix}c`, config({}).routes);
    const waited = await other.admit('r', () => 10).catch((err: unknown) => err);
    expect((waited as WaitError).code).toBe('lm_rate_limited');
    expect((waited as WaitError).delayMs).toBeGreaterThan(300);
  });

  it('limits ingest per tenant with the seconds to wait', async () => {
    const limiter = new IngestLimiter(
      ConfigSchema.parse({
        key_prefix: `${prefix}d`,
        routes: [{ name: 'r', model: 'm', base_url: 'http://127.0.0.1:1/v1' }],
        tenants: [{ name: 'tiny', api_key_env: 'TINY_KEY', rpm: 2 }, { name: 'big', api_key_env: 'BIG_KEY' }],
      }),
      redis,
    );
    await limiter.take('tiny');
    await limiter.take('tiny');
    const err = await limiter.take('tiny').catch((e: unknown) => e);
    expect((err as { code: string }).code).toBe('rate_limited');
    expect((err as { details: { retry_after_s: number } }).details.retry_after_s).toBeGreaterThanOrEqual(1);
    for (let i = 0; i < 5; i += 1) await limiter.take('big');
  });
});

describe('call signal', () => {
  it('aborts with lm_timeout after the timeout, and with cancelled when the job is cancelled', async () => {
    const timed = callSignal(20);
    await sleep(60);
    expect(timed.signal.aborted).toBe(true);
    expect((timed.signal.reason as { code: string }).code).toBe('lm_timeout');

    const job = new AbortController();
    const call = callSignal(10_000, job.signal);
    job.abort();
    expect((call.signal.reason as { code: string }).code).toBe('cancelled');
    call.dispose();
  });
});
