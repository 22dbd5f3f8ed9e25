// The cost stage inside the real pipeline (fake LM, fake clock, real Redis): the result's cost
// matches the reported usage to the micro-dollar, a failed call gives its reservation back,
// policies decide between failing and waiting, and the ledger adds it all up.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';

declare module 'vitest' {
  // Provided by test/utils/global-setup.ts (a private redis-server for the whole run).
  export interface ProvidedContext {
    redisUrl: string;
  }
}
import { ConfigSchema, type Config } from '../config/index.js';
import { LmError, PredictqError, WaitError } from '../errors/index.js';
import type { LmCaller, LmResponse, LmUsage } from '../lm/index.js';
import { PredictionPipeline, type Outcome } from '../pipeline/index.js';
import { createFastConnection, PredictionJobDataSchema, type PredictionResult, type RedisConnection } from '../queue/index.js';
import { CostEvents, type BudgetSoftLimitEvent, type CostSettledEvent } from './cost-events.js';
import { CostTracker } from './cost-tracker.js';
import { PriceTable } from './prices.js';
import { costMicros } from './usage-cost.js';
import { until } from '../../../../test/utils/http.js';
import { startRedis } from '../../../../test/utils/redis-server.js';

const NOON = Date.UTC(2025, 5, 15, 12);
const clock = { t: NOON, now: () => clock.t };
const ANSWER = '[[ ## answer ## ]]\nParis\n\n[[ ## completed ## ]]';

function reply(usage: Partial<LmUsage>, text = ANSWER): LmResponse {
  const full = { prompt_tokens: 0, completion_tokens: 0, cached_tokens: 0, reasoning_tokens: 0, ...usage };
  return { text, finishReason: 'stop', model: 'sim-small', headers: {}, usage: { ...full, total_tokens: full.prompt_tokens + full.completion_tokens } };
}

function job(tenant = 'default') {
  return PredictionJobDataSchema.parse({
    v: 1, tenant, request_id: randomUUID(), program: null, program_version: null, module: 'Predict',
    signature: 'question -> answer', inputs: { question: 'What is the capital of France?' },
    route: 'r', model: 'sim-small', params: { max_tokens: 100 }, created_at: NOON,
  });
}

describe('CostTracker in the pipeline (real Redis)', () => {
  let redis: Redis;
  let prefix: string;
  beforeAll(() => {
    redis = new Redis(inject('redisUrl'));
  });
  afterEach(async () => {
    clock.t = NOON;
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
  });
  afterAll(async () => {
    await redis.quit();
  });

  function setup(extra: Record<string, unknown>, lm: LmCaller, connection: RedisConnection = redis) {
    prefix = `t${randomUUID().slice(0, 8)}`;
    const config: Config = ConfigSchema.parse({
      key_prefix: prefix,
      routes: [{ name: 'r', model: 'sim-small', base_url: 'http://127.0.0.1:1/v1' }],
      ...extra,
    });
    const events = new CostEvents();
    const cost = new CostTracker({ config, redis: connection, clock, events });
    const pipeline = new PredictionPipeline({ config, lmFor: () => lm, clock, cost });
    // The pipeline's outcome as a promise: its result, or the error it decided on.
    const settle = (outcome: Outcome): PredictionResult => {
      if (outcome.kind === 'ok') return outcome.result;
      throw outcome.error;
    };
    const run = async (tenant?: string) => settle(await pipeline.run(job(tenant), { jobId: randomUUID(), enqueuedAt: clock.t, lastAttempt: true }));
    return { cost, events, run, budget: async () => (await cost.budgets.snapshot())[0]! };
  }

  it('puts the cost of the reported usage in the result, the ledger and the budget, to the micro-dollar', async () => {
    const usage = { prompt_tokens: 1234, completion_tokens: 567, cached_tokens: 1000, reasoning_tokens: 300 };
    const { cost, events, run, budget } = setup({ budgets: { global: { daily_usd: 1 } } }, { chat: async () => reply(usage) });
    const settled: CostSettledEvent[] = [];
    events.on('cost:settled', (e) => settled.push(e));
    const result = await run();
    const expected = costMicros(new PriceTable().lookup('sim-small')!, usage); // 234*0.15 + 1000*0.075 + 567*0.6 = 450.3
    expect(expected).toBe(450);
    expect(result.cost_micros).toBe(expected);
    expect(result.cost_usd).toBe(expected / 1e6);
    expect(result.usage).toMatchObject({ cached_tokens: 1000, reasoning_tokens: 300 });
    expect(settled).toMatchObject([{ costMicros: expected, budgets: [{ budget: 'global', window: 'daily', spentMicros: expected }] }]);
    expect(await budget()).toMatchObject({ spentMicros: expected, reservedMicros: 0 });
    const report = await cost.ledger.report({ from: '2025-06-15', to: '2025-06-15', groupBy: 'model' });
    expect(report.groups).toMatchObject([{ key: 'sim-small', requests: 1, prompt_tokens: 1234, cached_tokens: 1000, cost_micros: expected }]);
  });

  it('releases the whole reservation when the LM call fails, and pays for an unparseable reply', async () => {
    let fail = true;
    const lm = { chat: async () => (fail ? Promise.reject(new LmError('lm_upstream_error', 'boom')) : reply({ prompt_tokens: 100, completion_tokens: 10 }, 'no fields')) };
    const { run, budget } = setup({ budgets: { global: { daily_usd: 1 } } }, lm);
    await expect(run()).rejects.toMatchObject({ code: 'lm_upstream_error' });
    expect(await budget()).toMatchObject({ spentMicros: 0, reservedMicros: 0 });
    fail = false;
    await expect(run()).rejects.toMatchObject({ code: 'unparseable_reply' });
    // Both calls were paid: the ChatAdapter reply and DSPy's JSONAdapter retry, 100*0.15 + 10*0.6 each.
    expect(await budget()).toMatchObject({ spentMicros: 42, reservedMicros: 0 });
  });

  it('rejects with budget_exceeded under "reject", and waits for the reset under "hold"', async () => {
    // 450 micro-dollars a call, far above the ~80 reserved: the second call's worst case no longer fits in 500.
    const lm = { chat: async () => reply({ prompt_tokens: 1000, completion_tokens: 500 }) };
    const reject = setup({ budgets: { tenants: { default: { daily_usd: 0.0005 } } } }, lm);
    await reject.run();
    const refused = await reject.run().catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(PredictqError);
    expect(refused).not.toBeInstanceOf(WaitError);
    expect(refused).toMatchObject({ code: 'budget_exceeded', details: { scope: 'tenant', window: 'daily', resets_at: '2025-06-16T00:00:00.000Z' } });

    const hold = setup({ budgets: { tenants: { default: { daily_usd: 0.0005, policy: 'hold' } } } }, lm);
    await hold.run();
    const waiting = await hold.run().catch((e: unknown) => e);
    expect(waiting).toBeInstanceOf(WaitError);
    expect((waiting as WaitError).code).toBe('budget_exceeded');
    expect((waiting as WaitError).delayMs).toBeGreaterThanOrEqual(12 * 3600_000);
    expect((waiting as WaitError).delayMs).toBeLessThanOrEqual(12 * 3600_000 + 1000);
    clock.t = Date.UTC(2025, 5, 16, 0, 0, 1);
    await expect(hold.run()).resolves.toMatchObject({ cost_micros: 450 });
  });

  it('refuses at the producer pre-check once spent, naming the window', async () => {
    const lm = { chat: async () => reply({ prompt_tokens: 1000, completion_tokens: 500 }) };
    const { cost, run } = setup({ budgets: { global: { monthly_usd: 0.0005 } } }, lm);
    await expect(cost.precheck('default', 'sim-small', 10, 100)).resolves.toBeUndefined();
    await run();
    await expect(cost.precheck('default', 'sim-small', 10, 100)).rejects.toMatchObject({
      code: 'budget_exceeded',
      details: { scope: 'global', window: 'monthly', resets_at: '2025-07-01T00:00:00.000Z' },
    });
  });

  it('reports the soft limit once per window, when a settlement crosses it', async () => {
    const lm = { chat: async () => reply({ prompt_tokens: 1000, completion_tokens: 0 }) }; // 150 micro-dollars
    const { events, run } = setup({ budgets: { global: { daily_usd: 0.001, soft_limit_percent: 40 } } }, lm);
    const crossings: BudgetSoftLimitEvent[] = [];
    events.on('budget:soft_limit', (e) => crossings.push(e));
    for (let i = 0; i < 5; i++) await run(); // 150, 300, 450 (crosses 400), 600, 750
    expect(crossings).toMatchObject([{ budget: 'global', window: 'daily', spentMicros: 450, softLimitPercent: 40 }]);
  });

  it('records what a cache hit saved', async () => {
    const { cost, events } = setup({}, { chat: async () => reply({}) });
    const saved: number[] = [];
    events.on('cost:saved', (e) => saved.push(e.savedMicros));
    const micros = await cost.recordCacheHit({ tenant: 'acme', model: 'sim-small', route: 'r', variant: 'b', usage: { prompt_tokens: 1000, completion_tokens: 500 } });
    expect(micros).toBe(450);
    expect(saved).toEqual([450]);
    const report = await cost.ledger.report({ tenant: 'acme', from: '2025-06-15', to: '2025-06-15', groupBy: 'variant' });
    expect(report.groups).toMatchObject([{ key: 'b', cache_hits: 1, saved_tokens: 1500, saved_micros: 450, saved_usd: 0.00045, cost_micros: 0 }]);
  });
  it('gives back a reservation whose answer never came, though Redis runs it after the client gave up', async () => {
    // Its own Redis: the pause below would stall every other test file's.
    const server = await startRedis();
    const admin = new Redis(server.url);
    // The worker's connection: a command times out after 1 s, yet it has gone out and will run.
    const connection = createFastConnection(server.url);
    try {
      const { cost, budget } = setup({ budgets: { global: { daily_usd: 1 } } }, { chat: async () => reply({}) }, connection);
      await new Promise((ready) => connection.once('ready', ready));
      // Scripts that write wait 1.5 s: the reserve outlives its timeout, then runs.
      await admin.call('CLIENT', 'PAUSE', '1500', 'WRITE');
      const request = { id: randomUUID(), tenant: 'default', route: { name: 'r', model: 'sim-small', timeout_ms: 1000 }, variant: null, promptTokens: () => 50, maxTokens: 10 };
      await expect(cost.reserve(request)).rejects.toMatchObject({ code: 'service_unavailable' });
      // One connection runs its commands in order: once this answers, the reserve has run.
      await connection.ping();
      await until(async () => (await budget()).reservedMicros === 0 && (await cost.budgets.inFlight()) === 0, 5000);
    } finally {
      connection.disconnect();
      admin.disconnect();
      await server.stop();
    }
  });

  it('counts the prompt\'s tokens only for a tenant a budget applies to', async () => {
    const request = (promptTokens: () => number) => ({
      id: randomUUID(),
      tenant: 'default',
      route: { name: 'r', model: 'sim-small', timeout_ms: 1000 },
      variant: null,
      promptTokens,
      maxTokens: 10,
    });
    let counted = 0;
    const count = () => (counted++, 50);
    const unbudgeted = setup({}, { chat: async () => reply({}) });
    await (await unbudgeted.cost.reserve(request(count))).release();
    expect(counted).toBe(0);
    const budgeted = setup({ budgets: { global: { daily_usd: 1 } } }, { chat: async () => reply({}) });
    const reservation = await budgeted.cost.reserve(request(count));
    expect(counted).toBe(1);
    expect(reservation.reservedMicros).toBeGreaterThan(0);
    await reservation.release();
  });
});
