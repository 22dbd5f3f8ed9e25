// One trace per prediction: the client's traceparent -> the producer's HTTP span -> BullMQ's
// "add" span -> BullMQ's "process" span -> the worker's job span -> the LM call span. Producer
// and worker run in this process (factories) so an in-memory exporter sees every span; real
// Redis, real BullMQ and the LM simulator.
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  createLogger,
  createMetrics,
  createQueueConnection,
  loadConfig,
  startTracing,
  tracesExporters,
  type Config,
  type Tracing,
  type RedisConnection,
} from '@predictq/core';
import { startSim } from '@predictq/lm-sim';
import { createApp, type ProducerApp } from '@predictq/producer';
import { createWorker, type PredictqWorker } from '@predictq/worker';
import { request, until } from './utils/http.js';

const CLIENT_TRACE_ID = randomUUID().replaceAll('-', '');
const CLIENT_SPAN_ID = randomUUID().replaceAll('-', '').slice(0, 16);

interface Running {
  url: string;
  config: Config;
  app: ProducerApp;
  worker: PredictqWorker;
  server: Server;
}

function parentId(span: ReadableSpan): string | undefined {
  return span.parentSpanContext?.spanId;
}

describe('tracing across producer, queue, worker and LM', () => {
  const exporter = new InMemorySpanExporter();
  let tracing: Tracing;
  let sim: Awaited<ReturnType<typeof startSim>>;
  let connection: RedisConnection;
  const running: Running[] = [];

  async function start(withBullmqSpans: boolean): Promise<Running> {
    const config = loadConfig(
      { REDIS_URL: inject('redisUrl'), PREDICTQ_KEY_PREFIX: `t${randomUUID().slice(0, 8)}` },
      { routes: [{ name: 'default', model: 'sim-small', base_url: sim.url }] },
    );
    const logger = createLogger({ name: 'trace-test', level: 'silent' });
    const telemetry = withBullmqSpans ? tracing.bullmq : undefined;
    const app = createApp({ config, connection, logger, metrics: createMetrics({ defaultMetrics: false }), secrets: {}, telemetry });
    const worker = createWorker({ config, connection, logger, metrics: createMetrics({ defaultMetrics: false }), secrets: {}, telemetry });
    const server = createServer(app.listener).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const entry = { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, config, app, worker, server };
    running.push(entry);
    return entry;
  }

  async function predict(stack: Running, traceId: string): Promise<string> {
    const res = await request(`${stack.url}/v1/predictions`, {
      body: { signature: 'question -> answer', inputs: { question: `traced ${randomUUID()}` } },
      headers: { prefer: 'wait=20', traceparent: `00-${traceId}-${CLIENT_SPAN_ID}-01` },
    });
    expect(res.status).toBe(200);
    return res.body.id as string;
  }

  /** The trace's spans once the LM span (the last to start) and the HTTP span (the last to end) are in. */
  async function spansOf(traceId: string): Promise<ReadableSpan[]> {
    return until(async () => {
      const spans = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
      const done = spans.some((s) => s.name.startsWith('chat ')) && spans.some((s) => s.name.startsWith('POST '));
      return done ? spans : undefined;
    });
  }

  beforeAll(async () => {
    tracing = await startTracing({ serviceName: 'predictq-test', exporter });
    sim = await startSim({});
    connection = createQueueConnection(inject('redisUrl'));
  });

  afterAll(async () => {
    for (const r of running) {
      await new Promise((resolve) => r.server.close(resolve));
      await r.worker.close();
      for (const q of r.app.queues.all) await q.obliterate({ force: true });
      await r.app.close();
    }
    await connection?.quit();
    await sim?.close();
    await tracing?.shutdown();
  });

  it('chains HTTP -> add -> process -> job -> LM call under the caller\'s trace', async () => {
    expect(tracing.enabled).toBe(true);
    const stack = await start(true);
    const id = await predict(stack, CLIENT_TRACE_ID);
    const spans = await spansOf(CLIENT_TRACE_ID);
    const byName = (prefix: string) => {
      const found = spans.filter((s) => s.name.startsWith(prefix));
      expect(found, `one span named ${prefix}…, got ${spans.map((s) => s.name).join(', ')}`).toHaveLength(1);
      return found[0]!;
    };
    const http = byName('POST predictions');
    const add = byName('add predict.default');
    const process = byName('process predict.default');
    const job = byName('predict predict.default');
    const lm = byName('chat sim-small');

    expect(parentId(http)).toBe(CLIENT_SPAN_ID);
    expect(parentId(add)).toBe(http.spanContext().spanId);
    expect(parentId(process)).toBe(add.spanContext().spanId);
    expect(parentId(job)).toBe(process.spanContext().spanId);
    expect(parentId(lm)).toBe(job.spanContext().spanId);

    expect(http.attributes['http.response.status_code']).toBe(200);
    expect(job.attributes['messaging.message.id']).toBe(id);
    expect(job.attributes['predictq.outcome']).toBe('succeeded');
    expect(lm.attributes['gen_ai.usage.input_tokens']).toEqual(expect.any(Number));
    // The LM span lies inside the job span.
    const t = (hr: [number, number]) => hr[0] * 1e9 + hr[1];
    expect(t(lm.startTime)).toBeGreaterThanOrEqual(t(job.startTime));
    expect(t(lm.endTime)).toBeLessThanOrEqual(t(job.endTime));

    // The trace context also travels in the job data.
    const stored = await stack.app.queues.find(id);
    expect(stored?.data.trace?.traceparent).toMatch(new RegExp(`^00-${CLIENT_TRACE_ID}-[0-9a-f]{16}-01$`));
  });

  it('links the job span to the HTTP span through the job data when BullMQ spans are off', async () => {
    const traceId = randomUUID().replaceAll('-', '');
    const stack = await start(false);
    await predict(stack, traceId);
    const spans = await spansOf(traceId);
    expect(spans.some((s) => s.name.startsWith('add ') || s.name.startsWith('process '))).toBe(false);
    const http = spans.find((s) => s.name.startsWith('POST predictions'))!;
    const job = spans.find((s) => s.name.startsWith('predict '))!;
    const lm = spans.find((s) => s.name.startsWith('chat '))!;
    expect(parentId(job)).toBe(http.spanContext().spanId);
    expect(parentId(lm)).toBe(job.spanContext().spanId);
  });
});

describe('tracing switch', () => {
  it('is off unless OTEL_* asks for it', () => {
    expect(tracesExporters({})).toEqual([]);
    expect(tracesExporters({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toEqual(['otlp']);
    expect(tracesExporters({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' })).toEqual(['otlp']);
    expect(tracesExporters({ OTEL_TRACES_EXPORTER: 'console, otlp' })).toEqual(['console', 'otlp']);
    expect(tracesExporters({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toEqual([]);
    expect(tracesExporters({ OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'otlp' })).toEqual([]);
  });

  it('ignores (and reports) exporters it lacks, staying off', async () => {
    const off = await startTracing({ serviceName: 'x', env: { OTEL_TRACES_EXPORTER: 'zipkin' } });
    expect(off.enabled).toBe(false);
    expect(off.ignored).toEqual(['zipkin']);
    expect(off.bullmq).toBeUndefined();
  });
});
