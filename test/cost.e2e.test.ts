// Cost tracking and budgets across real processes: two workers share one tenant budget through
// Redis, 300 concurrent predictions never overspend it, reservations are not leaked, the
// producer refuses a spent tenant with 402, and each prediction costs exactly what the
// simulator's reported usage says.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PriceTable, costMicros } from '@predictq/core';
import { request, until } from './utils/http.js';
import { workerMetrics } from './utils/processes.js';
import { startStack, type Stack } from './utils/stack.js';

const BUDGET_USD = 0.0018; // ~50 predictions of the shape below at sim-small's default price (36 micro-dollars each)
const CAPPED = { authorization: 'Bearer k-capped' };
const OPEN = { authorization: 'Bearer k-open' };
const ADMIN = { authorization: 'Bearer test-admin-key' };
const SIM_SMALL = new PriceTable().lookup('sim-small')!;

describe('cost and budgets end to end', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      workers: 2,
      config: {
        tenants: [
          { name: 'capped', api_key_env: 'CAPPED_KEY' },
          { name: 'open', api_key_env: 'OPEN_KEY' },
        ],
        budgets: { tenants: { capped: { daily_usd: BUDGET_USD, soft_limit_percent: 50 } } },
      },
      env: { CAPPED_KEY: 'k-capped', OPEN_KEY: 'k-open' },
    });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('costs each prediction exactly what the simulator reported, in the result and the usage report', async () => {
    const before = stack.sim.state.stats.snapshot().tokens;
    const body = { signature: 'context, question -> answer, confidence: float', inputs: { context: 'Paris is in France.', question: `cost ${randomUUID()}` } };
    const res = await request(`${stack.url}/v1/predictions`, { body, headers: { ...OPEN, prefer: 'wait=20' } });
    expect(res.status).toBe(200);
    const after = stack.sim.state.stats.snapshot().tokens;
    const simUsage = { prompt_tokens: after.prompt - before.prompt, completion_tokens: after.completion - before.completion };
    expect(res.body.usage).toMatchObject(simUsage);
    const expected = costMicros(SIM_SMALL, simUsage);
    expect(expected).toBeGreaterThan(0);
    expect(Math.round(res.body.cost_usd * 1e6)).toBe(expected);

    const usage = await request(`${stack.url}/admin/usage?tenant=open&group_by=model`, { headers: ADMIN });
    expect(usage.status).toBe(200);
    expect(usage.body.groups).toMatchObject([{ key: 'sim-small', requests: 1, ...simUsage, cost_micros: expected }]);
    expect(usage.body.total.cost_micros).toBe(expected);

    // The same request again is a cache hit: it costs 0 and saves exactly what the call cost.
    const hit = await request(`${stack.url}/v1/predictions`, { body, headers: { ...OPEN, prefer: 'wait=20' } });
    expect(hit.body).toMatchObject({ status: 'succeeded', cost_usd: 0, cache: { hit: true } });
    const saved = await until(async () => {
      const report = await request(`${stack.url}/admin/usage?tenant=open&group_by=model`, { headers: ADMIN });
      return report.body.total.cache_hits === 1 ? report.body.total : undefined;
    });
    expect(saved).toMatchObject({ requests: 1, cost_micros: expected, saved_micros: expected, saved_tokens: simUsage.prompt_tokens + simUsage.completion_tokens });
  });

  it('never overspends a budget shared by two workers under 300 concurrent predictions, and leaks no reservation', async () => {
    const simBefore = stack.sim.state.stats.snapshot().requests;
    const posts = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        request(`${stack.url}/v1/predictions`, {
          body: { signature: 'question -> answer', inputs: { question: `budget question number ${i}` }, params: { max_tokens: 60 } },
          headers: { ...CAPPED, prefer: 'wait=50' },
        }),
      ),
    );
    // Refused at the producer once spent (402), or accepted and finished either way.
    for (const post of posts) {
      if (post.status === 402) expect(post.body.error).toMatchObject({ code: 'budget_exceeded', details: { window: 'daily' } });
      else expect([200, 202]).toContain(post.status);
    }
    const accepted = posts.filter((p) => p.status !== 402).map((p) => p.body.id as string);
    const finished = await Promise.all(
      accepted.map((id) =>
        until(async () => {
          const poll = await request(`${stack.url}/v1/predictions/${id}`, { headers: CAPPED });
          return poll.body.status === 'succeeded' || poll.body.status === 'failed' ? poll.body : undefined;
        }, 60_000, 250),
      ),
    );
    const succeeded = finished.filter((p) => p.status === 'succeeded');
    const failed = finished.filter((p) => p.status === 'failed');
    for (const p of failed) expect(p.error.code).toBe('budget_exceeded');

    const budgetMicros = Math.round(BUDGET_USD * 1e6);
    const costs = succeeded.map((p) => Math.round(p.cost_usd * 1e6));
    const spent = costs.reduce((a, b) => a + b, 0);
    expect(spent).toBeLessThanOrEqual(budgetMicros);
    // Reservations are worst cases (60 completion tokens, about 25 used) released at settlement,
    // so all but the last one or two of what the budget covers succeed.
    expect(succeeded.length).toBeGreaterThanOrEqual(Math.floor(budgetMicros / Math.max(...costs)) - 3);
    expect(succeeded.length).toBeLessThanOrEqual(Math.floor(budgetMicros / Math.min(...costs)));
    // Only the predictions that succeeded reached the LM: a refused one never calls it.
    expect(stack.sim.state.stats.snapshot().requests - simBefore).toBe(succeeded.length);

    // The recorded spend agrees with the results, and nothing is still reserved.
    const stats = await request(`${stack.url}/admin/stats`, { headers: ADMIN });
    const daily = (stats.body.budgets as any[]).find((b) => b.budget === 'tenant:capped' && b.window === 'daily');
    expect(Math.round(daily.spent_usd * 1e6)).toBe(spent);
    expect(daily.reserved_usd).toBe(0);
    const usage = await request(`${stack.url}/admin/usage?tenant=capped&group_by=day`, { headers: ADMIN });
    expect(usage.body.total).toMatchObject({ requests: succeeded.length, cost_micros: spent });

    // The soft limit (50%) was crossed once across both workers (counted at once, logged within
    // LOG_FLUSH_MS), and the spend is on /metrics.
    const softLines = () => stack.workers.flatMap((w) => w.lines.filter((l) => l.includes('budget soft limit crossed')));
    expect(await until(async () => softLines().length > 0 && softLines())).toHaveLength(1);
    let metricUsd = 0;
    let softCrossings = 0;
    for (const worker of stack.workers) {
      const text = await workerMetrics(worker);
      softCrossings += Number(/^dspy_budget_soft_limit_total\{budget="tenant:capped",window="daily"\} (\d+)$/m.exec(text)?.[1] ?? 0);
      metricUsd += Number(/^dspy_cost_usd_total\{model="sim-small"\} (\S+)$/m.exec(text)?.[1] ?? 0);
      expect(text).toMatch(/^dspy_budget_remaining_usd\{budget="tenant:capped",window="daily"\} /m);
    }
    expect(metricUsd).toBeGreaterThanOrEqual(spent / 1e6 - 1e-9);
    expect(softCrossings).toBe(1);
  }, 120_000);

  it('refuses a spent tenant at the producer with 402 naming the window and its reset, and serves other tenants', async () => {
    const refused = await request(`${stack.url}/v1/predictions`, {
      body: { signature: 'question -> answer', inputs: { question: `after ${randomUUID()}` } },
      headers: CAPPED,
    });
    expect(refused.status).toBe(402);
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    expect(refused.body.error).toMatchObject({ code: 'budget_exceeded', details: { scope: 'tenant', window: 'daily', resets_at: `${tomorrow}T00:00:00.000Z` } });

    const other = await request(`${stack.url}/v1/predictions`, {
      body: { signature: 'question -> answer', inputs: { question: `other ${randomUUID()}` } },
      headers: { ...OPEN, prefer: 'wait=20' },
    });
    expect(other.status).toBe(200);
  });

  it('validates the usage report query and keeps it behind the admin key', async () => {
    expect((await request(`${stack.url}/admin/usage`)).status).toBe(401);
    const bad = await request(`${stack.url}/admin/usage?group_by=colour`, { headers: ADMIN });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_request');
    const reversed = await request(`${stack.url}/admin/usage?from=2025-02-02&to=2025-02-01`, { headers: ADMIN });
    expect(reversed.body.error.code).toBe('invalid_request');
    const empty = await request(`${stack.url}/admin/usage?from=2020-01-01&to=2020-01-31&group_by=variant`, { headers: ADMIN });
    expect(empty.body).toMatchObject({ object: 'usage_report', groups: [], total: { cost_usd: 0 } });
  });
});
