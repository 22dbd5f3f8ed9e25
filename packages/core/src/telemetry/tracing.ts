// OpenTelemetry tracing. Off (the API's no-op tracer, nothing exported) unless the standard
// OTEL_* variables ask for it. One trace follows a prediction: the producer's HTTP span, BullMQ's
// "add" and "process" spans (bullmq-otel), the worker's job span and the LM call span. The W3C
// trace context also travels in the job data (`trace`), so the worker's job span has the right
// parent even when only one side runs BullMQ's telemetry.
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  INVALID_SPAN_CONTEXT,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  context,
  propagation,
  trace,
  type Attributes,
  type Context,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import type { SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { BullMQOtel } from 'bullmq-otel';

export const TRACER_NAME = 'predictq';

/** W3C trace context as carried in job data. */
export interface TraceCarrier {
  traceparent: string;
  tracestate?: string;
}

export interface Tracing {
  enabled: boolean;
  /** For the `telemetry` option of BullMQ queues and workers; undefined when tracing is off. */
  bullmq: BullMQOtel | undefined;
  /** Exporter names in OTEL_TRACES_EXPORTER that were ignored (not otlp, console or none). */
  ignored: string[];
  /** Flushes pending spans and unregisters the global provider. */
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  serviceName: string;
  env?: Record<string, string | undefined>;
  /** Export to this (synchronously, span by span) instead of what OTEL_* says: for tests. */
  exporter?: SpanExporter;
}

/** The exporters named by OTEL_TRACES_EXPORTER, or OTLP when only an OTLP endpoint is set. */
export function tracesExporters(env: Record<string, string | undefined>): string[] {
  // Names other than otlp and console are returned too, so the caller can report them.
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return [];
  const named = (env.OTEL_TRACES_EXPORTER ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  if (named.length > 0) return named.includes('none') ? [] : named;
  return env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ? ['otlp'] : [];
}

async function processorsFor(exporters: string[], testExporter: SpanExporter | undefined): Promise<SpanProcessor[]> {
  const { BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
  if (testExporter) return [new SimpleSpanProcessor(testExporter)];
  return Promise.all(
    exporters.map(async (name) => {
      if (name === 'otlp') {
        const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
        return new BatchSpanProcessor(new OTLPTraceExporter());
      }
      return new SimpleSpanProcessor(new ConsoleSpanExporter());
    }),
  );
}

const SUPPORTED = new Set(['otlp', 'console']);

/** Set while a provider is registered, so per-request work is skipped when tracing is off. */
let active = false;

export function tracingActive(): boolean {
  return active;
}

/**
 * Starts tracing for this process if OTEL_* (or a test's exporter) asks for it. Call once, first.
 * The SDK is imported only then, so a process without tracing never loads it.
 */
export async function startTracing(options: TracingOptions): Promise<Tracing> {
  const env = options.env ?? process.env;
  const named = tracesExporters(env);
  // As the OpenTelemetry spec asks, an unknown exporter name is ignored (and reported), not fatal.
  const ignored = named.filter((n) => !SUPPORTED.has(n));
  const exporters = named.filter((n) => SUPPORTED.has(n));
  if (!options.exporter && exporters.length === 0) return { enabled: false, bullmq: undefined, ignored, shutdown: async () => {} };
  const processors = await processorsFor(exporters, options.exporter);
  const [{ NodeTracerProvider }, { defaultResource, detectResources, envDetector, resourceFromAttributes }, { ATTR_SERVICE_NAME }, { BullMQOtel }] =
    await Promise.all([
      import('@opentelemetry/sdk-trace-node'),
      import('@opentelemetry/resources'),
      import('@opentelemetry/semantic-conventions'),
      import('bullmq-otel'),
    ]);
  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (envDetector) win over the app's own name.
  const resource = defaultResource()
    .merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: options.serviceName }))
    .merge(detectResources({ detectors: [envDetector] }));
  const provider = new NodeTracerProvider({ resource, spanProcessors: processors });
  // Registers the AsyncLocalStorage context manager and the W3C trace-context propagator.
  provider.register();
  active = true;
  return {
    enabled: true,
    ignored,
    bullmq: new BullMQOtel(TRACER_NAME),
    async shutdown() {
      active = false;
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}

export function tracer(): Tracer {
  return trace.getTracer(TRACER_NAME);
}

/** The active trace context as a W3C carrier, or undefined when there is no sampled span. */
export function injectTraceContext(ctx: Context = context.active()): TraceCarrier | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  if (!carrier.traceparent) return undefined;
  return carrier.tracestate ? { traceparent: carrier.traceparent, tracestate: carrier.tracestate } : { traceparent: carrier.traceparent };
}

export function extractTraceContext(carrier: Partial<TraceCarrier> | undefined, base: Context = context.active()): Context {
  return carrier?.traceparent ? propagation.extract(base, carrier) : base;
}

function endWithError(span: Span, err: unknown): void {
  const code = err && typeof err === 'object' && 'code' in err ? String((err as { code: unknown }).code) : undefined;
  span.setStatus({ code: SpanStatusCode.ERROR, ...(code ? { message: code } : {}) });
  if (code) span.setAttribute('error.type', code);
}

/** What fn is handed while tracing is off: records nothing. */
const NO_SPAN: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/**
 * Runs fn in a new active span (child of `parent`, or of the active context), ending it when
 * fn settles; a throw marks the span as an error with the error's stable code. With tracing
 * off, fn is simply called (the no-op tracer's context switch is work per job for nothing).
 */
export async function inSpan<T>(
  name: string,
  options: { kind?: SpanKind; attributes?: Attributes; parent?: Context },
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  if (!active) return fn(NO_SPAN);
  const parent = options.parent ?? context.active();
  return tracer().startActiveSpan(
    name,
    { kind: options.kind ?? SpanKind.INTERNAL, ...(options.attributes ? { attributes: options.attributes } : {}) },
    parent,
    async (span) => {
      try {
        return await fn(span);
      } catch (err) {
        endWithError(span, err);
        throw err;
      } finally {
        span.end();
      }
    },
  );
}

/** Adds attributes to the active span, if any. */
export function annotateSpan(attributes: Attributes): void {
  if (active) trace.getActiveSpan()?.setAttributes(attributes);
}

/** Records a finished operation (known start and duration) as a child of the active span. */
export function recordSpan(
  name: string,
  options: { kind?: SpanKind; startTime: number; endTime: number; attributes?: Attributes; error?: string },
): void {
  const span = tracer().startSpan(name, {
    kind: options.kind ?? SpanKind.INTERNAL,
    startTime: options.startTime,
    ...(options.attributes ? { attributes: options.attributes } : {}),
  });
  if (options.error) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: options.error });
    span.setAttribute('error.type', options.error);
  }
  span.end(options.endTime);
}

/**
 * Wraps a BullMQ processor in a job span. Its parent is BullMQ's own "process" span when
 * bullmq-otel is on, else the trace context the producer put in the job data.
 */
export function traceJobs<J extends { id?: string | undefined; queueName: string; data: unknown }, A extends unknown[], R>(
  processor: (job: J, ...rest: A) => Promise<R>,
): (job: J, ...rest: A) => Promise<R> {
  return (job, ...rest) => {
    if (!active) return processor(job, ...rest);
    const current = context.active();
    const carried = (job.data as { trace?: Partial<TraceCarrier> } | null)?.trace;
    const parent = trace.getSpan(current) ? current : extractTraceContext(carried, current);
    return inSpan(
      `predict ${job.queueName}`,
      { kind: SpanKind.INTERNAL, parent, attributes: { 'messaging.destination.name': job.queueName, 'messaging.message.id': job.id ?? '' } },
      () => processor(job, ...rest),
    );
  };
}

/**
 * Connect-style middleware: one SERVER span per HTTP request, child of the caller's
 * `traceparent` if any, active for everything the request runs (queue add included).
 * `routeOf` names the span from a bounded set of route templates, never the raw path.
 */
export function traceHttpRequests<Req extends IncomingMessage>(routeOf: (req: Req) => string) {
  return (req: Req, res: ServerResponse, next: (err?: unknown) => void): void => {
    if (!active) return next();
    const parent = propagation.extract(ROOT_CONTEXT, req.headers);
    const route = routeOf(req);
    const span = tracer().startSpan(
      `${req.method} ${route}`,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method ?? 'GET', 'http.route': route } },
      parent,
    );
    const ctx = trace.setSpan(parent, span);
    // Body parsing resumes from socket callbacks, outside this context: bind the emitters.
    context.bind(ctx, req);
    context.bind(ctx, res);
    res.once('close', () => {
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    context.with(ctx, next);
  };
}

export { SpanKind } from '@opentelemetry/api';
