// Metrics and logs of real producer and worker processes: bounded series, promtool-clean
// exposition, queue depth on both, one log line per request and per prediction tied by the
// request id, payloads logged as lengths only, and no secret in any log line.
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queuePrefix } from '@predictq/core';
import { startSim } from '@predictq/lm-sim';
import { request, until } from './utils/http.js';
import { workerMetricsUrl as metricsUrlOf } from './utils/processes.js';
import { startStack, type Stack } from './utils/stack.js';

const TENANT_KEY = `sk-tenant-${randomUUID()}`;
const ADMIN_KEY = `sk-admin-${randomUUID()}`;
const ROUTE_KEY = `sk-route-${randomUUID()}`;
const SECRETS = [TENANT_KEY, ADMIN_KEY, ROUTE_KEY];
const INPUT_MARKER = `input-marker-${randomUUID()}`;

/** prom-client's default gauges whose names end in _total: not ours to rename. */
const KNOWN_DEFAULT_METRIC_LINT = /^nodejs_active_(handles|requests|resources)_total non-counter metrics should not have "_total" suffix$/;

/** `name{labels}` of every series of ours in an exposition. */
function dspySeries(text: string): Set<string> {
  return new Set(
    text
      .split('\n')
      .filter((l) => l.startsWith('dspy_'))
      .map((l) => l.slice(0, l.lastIndexOf(' '))),
  );
}

function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

function promtoolCheckMetrics(text: string): { status: number | null; problems: string[] } {
  const run = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (run.error) throw run.error;
  const problems = `${run.stdout}\n${run.stderr}`.split('\n').map((l) => l.trim()).filter(Boolean);
  return { status: run.status, problems };
}

describe('observability of real processes', () => {
  let stack: Stack;
  let sim: Awaited<ReturnType<typeof startSim>>;
  let workerMetricsUrl: string;
  const auth = { authorization: `Bearer ${TENANT_KEY}` };

  const producerMetrics = async () => (await request(`${stack.url}/metrics`)).body as string;
  const workerMetrics = async () => (await request(workerMetricsUrl)).body as string;
  const allLines = () => [...stack.producer.lines, ...stack.workers.flatMap((w) => w.lines)];

  beforeAll(async () => {
    // The LM route comes from OPENAI_* like a real deployment, with a key the simulator ignores.
    sim = await startSim({});
    stack = await startStack({
      workers: 1,
      config: { tenants: [{ name: 'acme', api_key_env: 'OBS_TENANT_KEY' }] },
      env: {
        LOG_LEVEL: 'debug',
        OBS_TENANT_KEY: TENANT_KEY,
        PREDICTQ_ADMIN_KEY: ADMIN_KEY,
        OPENAI_BASE_URL: sim.url,
        OPENAI_API_KEY: ROUTE_KEY,
        OPENAI_MODEL: 'sim-small',
      },
    });
    workerMetricsUrl = await metricsUrlOf(stack.workers[0]!);
  });

  afterAll(async () => {
    await stack?.stop();
    await sim?.close();
  });

  it('logs one line per HTTP request and per prediction, tied by the request id, payloads as lengths', async () => {
    const requestId = `obs-${randomUUID()}`;
    const res = await request(`${stack.url}/v1/predictions`, {
      body: { signature: 'question -> answer', inputs: { question: `What is ${INPUT_MARKER}?` } },
      headers: { ...auth, prefer: 'wait=20', 'x-request-id': requestId },
    });
    expect(res.status).toBe(200);
    const workerLine = await until(async () => stack.workers[0]!.lines.find((l) => l.includes(requestId) && l.includes('"msg":"prediction"')));
    const producerLine = await until(async () => stack.producer.lines.find((l) => l.includes(requestId) && l.includes('"responseTime"')));

    const prediction = JSON.parse(workerLine);
    expect(prediction).toMatchObject({
      job_id: res.body.id,
      request_id: requestId,
      route: 'default',
      model: 'sim-small',
      variant: null,
      cache: 'miss',
      prompt_tokens: res.body.usage.prompt_tokens,
      completion_tokens: res.body.usage.completion_tokens,
      cost_usd: expect.any(Number),
      duration_ms: expect.any(Number),
      outcome: 'succeeded',
      input_chars: expect.any(Number),
      output_chars: expect.any(Number),
    });
    expect(prediction.input_chars).toBeGreaterThan(INPUT_MARKER.length);
    expect(prediction).not.toHaveProperty('inputs');
    expect(prediction).not.toHaveProperty('outputs');

    const http = JSON.parse(producerLine);
    expect(http).toMatchObject({ request_id: requestId, res: { statusCode: 200 }, responseTime: expect.any(Number) });
    expect(http.req.url).toBe('/v1/predictions');

    // Inputs are not logged anywhere by default.
    expect(allLines().filter((l) => l.includes(INPUT_MARKER))).toEqual([]);
  });

  it('writes no API key, admin key or route key to any log line', async () => {
    // A flow that touches every secret: tenant calls (good and bad), admin calls, LM calls
    // with the route key, and LM failures, with debug logging on.
    await request(`${stack.url}/v1/predictions`, { body: { signature: 'q -> a', inputs: { q: 'x' } }, headers: { authorization: `Bearer ${TENANT_KEY}x` } });
    await request(`${stack.url}/admin/stats`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    await request(`${stack.url}/admin/queues`, { headers: { authorization: `Basic ${Buffer.from(`ops:${ADMIN_KEY}`).toString('base64')}` } });
    await request(`${stack.url}/admin/stats`, { headers: { authorization: `Bearer ${TENANT_KEY}` } });
    sim.state.faults.update({ error_rate: 1, error_status: 400 });
    try {
      const failed = await request(`${stack.url}/v1/predictions`, {
        body: { signature: 'question -> answer', inputs: { question: `fails ${randomUUID()}` } },
        headers: { ...auth, prefer: 'wait=20' },
      });
      expect(failed.body.status).toBe('failed');
    } finally {
      sim.state.faults.update({ error_rate: 0 });
    }
    const ok = await request(`${stack.url}/v1/predictions`, {
      body: { signature: 'question -> answer', inputs: { question: `works ${randomUUID()}` } },
      headers: { ...auth, prefer: 'wait=20' },
    });
    expect(ok.body.status).toBe('succeeded');
    // Each process writes its lines in order, in blocks: once the last request's lines are here,
    // so is every line before them.
    await until(async () => stack.workers[0]!.lines.some((l) => l.includes(ok.body.id)));
    const lastRequest = ok.headers.get('x-request-id')!;
    await until(async () => stack.producer.lines.some((l) => l.includes(lastRequest)));

    const lines = allLines();
    expect(lines.length).toBeGreaterThan(10);
    // The requests that carried the keys were logged (one line each: method, url, status; no
    // headers), so a key in any of them would show here. Redaction itself: logger.test.ts.
    expect(lines.some((l) => l.includes('"url":"/admin/stats"'))).toBe(true);
    expect(lines.some((l) => l.includes('"url":"/admin/queues"'))).toBe(true);
    for (const secret of SECRETS) {
      expect(lines.filter((l) => l.includes(secret)), `a log line holds ${secret.slice(0, 9)}…`).toEqual([]);
    }
  });

  it('reports queue depth on the producer and the worker, and passes promtool check metrics', async () => {
    const producerText = await producerMetrics();
    const workerText = await workerMetrics();
    for (const text of [producerText, workerText]) {
      expect(sample(text, 'dspy_queue_jobs{queue="predict.default",state="completed"}')).toBeGreaterThan(0);
      expect(sample(text, 'dspy_queue_jobs{queue="predict.default",state="waiting"}')).toBe(0);
      expect(sample(text, 'dspy_queue_oldest_waiting_seconds{queue="predict.default"}')).toBe(0);
      expect(text).toMatch(/^process_cpu_user_seconds_total /m);
    }
    expect(sample(workerText, 'dspy_predictions_total{model="sim-small",status="succeeded"}')).toBeGreaterThan(0);
    expect(sample(producerText, 'dspy_http_requests_total{route="predictions",method="POST",status_class="2xx"}')).toBeGreaterThan(0);

    for (const [who, text] of [['producer', producerText], ['worker', workerText]] as const) {
      const { status, problems } = promtoolCheckMetrics(text);
      expect([0, 3], `${who}: promtool exit ${status}: ${problems.join('; ')}`).toContain(status);
      expect(problems.filter((p) => !KNOWN_DEFAULT_METRIC_LINT.test(p)), who).toEqual([]);
    }
  });

  it('keeps the series count flat under 200 unknown models, paths and bad jobs', async () => {
    const badRequests = async (n: number, tag: string) => {
      for (let i = 0; i < n; i += 20) {
        await Promise.all(
          Array.from({ length: Math.min(20, n - i) }, async (_, j) => {
            const unique = `${tag}-${i + j}-${randomUUID()}`;
            const model = await request(`${stack.url}/v1/predictions`, {
              body: { model: `model-${unique}`, signature: 'q -> a', inputs: { q: 'x' } },
              headers: auth,
            });
            expect(model.body.error.code).toBe('unknown_model');
            await request(`${stack.url}/v1/${unique}`, { headers: auth });
            await request(`${stack.url}/${unique}/deeper?x=${unique}`, { method: i % 2 ? 'PATCH' : 'GET' });
            await request(`${workerMetricsUrl.replace('/metrics', '')}/${unique}`);
          }),
        );
      }
    };
    // Jobs that name routes and models no one configured (only possible by writing to the queue).
    const redis = new Redis(stack.redisUrl, { maxRetriesPerRequest: null });
    const queue = new Queue('predict.default', { connection: redis, prefix: queuePrefix(stack.keyPrefix) });
    let added = 0;
    const badJobs = async (n: number, tag: string) => {
      added += n;
      await queue.addBulk(
        Array.from({ length: n }, (_, i) => ({
          name: 'predict',
          data: {
            v: 1, tenant: `t-${tag}-${i}`, request_id: `r-${tag}-${i}`, program: null, program_version: null, module: 'Predict',
            signature: 'q -> a', demos: [], inputs: { q: 'x' }, route: `route-${tag}-${i}`, model: `model-${tag}-${i}`,
            params: {}, cache: 'default', priority: 'interactive', variant: `variant-${tag}-${i}`, created_at: Date.now(),
          },
          opts: { attempts: 1 },
        })),
      );
      await until(async () => ((await queue.getJobCounts('failed')).failed ?? 0) >= added, 30_000);
    };
    try {
      // Warm up: every bounded label value these requests can produce now exists once.
      await badRequests(10, 'warm');
      // 40 distinct variants: past the 32 a process reports before the rest become "other".
      await badJobs(40, 'warm');
      await producerMetrics();
      await workerMetrics();
      const producerBefore = dspySeries(await producerMetrics());
      const workerBefore = dspySeries(await workerMetrics());

      await badRequests(200, 'flood');
      await badJobs(200, 'flood');

      const producerAfter = dspySeries(await producerMetrics());
      const workerAfter = dspySeries(await workerMetrics());
      expect([...producerAfter].filter((s) => !producerBefore.has(s))).toEqual([]);
      expect([...workerAfter].filter((s) => !workerBefore.has(s))).toEqual([]);
      expect(producerAfter.size).toBe(producerBefore.size);
      expect(workerAfter.size).toBe(workerBefore.size);
      // The flood was counted, under bounded labels.
      expect(sample(await workerMetrics(), 'dspy_predictions_total{model="other",status="failed"}')).toBeGreaterThanOrEqual(240);
      expect(sample(await workerMetrics(), 'dspy_variant_predictions_total{experiment="none",variant="other",status="failed"}')).toBeGreaterThanOrEqual(208);
    } finally {
      await queue.obliterate({ force: true }).catch(() => {});
      await queue.close();
      await redis.quit();
    }
  });
});
