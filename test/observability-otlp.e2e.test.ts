// Tracing turned on the standard way (OTEL_EXPORTER_OTLP_ENDPOINT) in real producer and worker
// processes: both export OTLP/HTTP JSON to a collector, and the worker's spans continue the
// producer's trace across the queue.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, until } from './utils/http.js';
import { startStack, type Stack } from './utils/stack.js';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  service: string;
}

/** A stand-in OTLP collector: keeps every span it receives. */
function startCollector(): Promise<{ server: Server; url: string; spans: OtlpSpan[] }> {
  const spans: OtlpSpan[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/v1/traces') {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          resourceSpans: Array<{
            resource: { attributes: Array<{ key: string; value: { stringValue?: string } }> };
            scopeSpans: Array<{ spans: Array<Omit<OtlpSpan, 'service'>> }>;
          }>;
        };
        for (const rs of body.resourceSpans) {
          const service = rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
          for (const ss of rs.scopeSpans) for (const s of ss.spans) spans.push({ ...s, service });
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans })),
  );
}

describe('OTLP export from real processes', () => {
  let collector: Awaited<ReturnType<typeof startCollector>>;
  let stack: Stack;

  beforeAll(async () => {
    collector = await startCollector();
    stack = await startStack({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_BSP_SCHEDULE_DELAY: '100' } });
  });

  afterAll(async () => {
    await stack?.stop();
    await new Promise((resolve) => collector?.server.close(resolve));
  });

  it('continues the producer\'s trace in the worker, down to the LM call', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await request(`${stack.url}/v1/predictions`, {
      body: { signature: 'question -> answer', inputs: { question: 'traced across processes' } },
      headers: { prefer: 'wait=20', traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    });
    expect(res.status).toBe(200);
    const spans = await until(async () => {
      const inTrace = collector.spans.filter((s) => s.traceId === traceId);
      return inTrace.some((s) => s.name.startsWith('chat ')) && inTrace.some((s) => s.name.startsWith('POST ')) ? inTrace : undefined;
    });
    const find = (name: string) => spans.find((s) => s.name.startsWith(name))!;
    const http = find('POST predictions');
    const add = find('add predict.default');
    const process = find('process predict.default');
    const job = find('predict predict.default');
    const lm = find('chat sim-small');
    expect([http.service, add.service, process.service, job.service, lm.service]).toEqual([
      'predictq-producer',
      'predictq-producer',
      'predictq-worker',
      'predictq-worker',
      'predictq-worker',
    ]);
    expect(http.parentSpanId).toBe('00f067aa0ba902b7');
    expect(add.parentSpanId).toBe(http.spanId);
    expect(process.parentSpanId).toBe(add.spanId);
    expect(job.parentSpanId).toBe(process.spanId);
    expect(lm.parentSpanId).toBe(job.spanId);

    // The producer's request line and the worker's prediction line carry the trace id.
    const tagged = (lines: string[]) => lines.some((l) => l.includes(`"trace_id":"${traceId}"`));
    await until(async () => tagged(stack.producer.lines));
    await until(async () => tagged(stack.workers[0]!.lines));
  });
});
