// Metrics, the one log line per prediction and the LM call span, hung off pipeline events. Each
// outcome is counted as what the pipeline decided: ok (succeeded or degraded), wait (requeued),
// retry (retried), fail (failed). Inputs and outputs are logged as lengths unless
// config.logging.log_payloads says otherwise.
import {
  SpanKind,
  annotateSpan,
  recordSpan,
  tracingActive,
  type Config,
  type Logger,
  type Metrics,
  type Outcome,
  type PipelineEvents,
} from '@predictq/core';

export type ObserverConfig = Pick<Config, 'routes' | 'logging'>;

function jsonLength(value: unknown): number {
  try {
    return JSON.stringify(value)?.length ?? 0;
  } catch {
    return 0;
  }
}

/** The dspy_predictions_total status of an outcome. */
export function outcomeStatus(outcome: Outcome<object>): 'succeeded' | 'degraded' | 'requeued' | 'retried' | 'failed' {
  switch (outcome.kind) {
    case 'ok':
      return 'degraded' in outcome.result && outcome.result.degraded === true ? 'degraded' : 'succeeded';
    case 'wait':
      return 'requeued';
    case 'retry':
      return 'retried';
    case 'fail':
      return 'failed';
  }
}

const SUFFIXES = {
  succeeded: '',
  degraded: '',
  requeued: ' requeued',
  retried: ' attempt failed; retrying',
  failed: ' failed',
} as const;

export function observePipeline(events: PipelineEvents, metrics: Metrics, logger: Logger, config: ObserverConfig): void {
  // A label outside the configured set (only possible from hand-made job data) is "other".
  const models = new Set(config.routes.map((r) => r.model));
  const routes = new Set(config.routes.map((r) => r.name));
  const modelLabel = (model: string | undefined) => (model !== undefined && models.has(model) ? model : 'other');
  const routeLabel = (route: string | undefined) => (route !== undefined && routes.has(route) ? route : 'other');
  const logPayloads = config.logging.log_payloads;

  events.on('lm:call', (e) => {
    const model = modelLabel(e.model);
    metrics.lmCallDuration.observe({ route: e.route, outcome: e.outcome }, e.durationMs / 1000);
    if (e.usage) {
      metrics.tokensUsed.inc({ model, type: 'prompt' }, e.usage.prompt_tokens);
      metrics.tokensUsed.inc({ model, type: 'completion' }, e.usage.completion_tokens);
      if (e.usage.cached_tokens) metrics.tokensUsed.inc({ model, type: 'cached' }, e.usage.cached_tokens);
      if (e.usage.reasoning_tokens) metrics.tokensUsed.inc({ model, type: 'reasoning' }, e.usage.reasoning_tokens);
    }
    if (tracingActive()) {
      // Emitted when the call has settled, in the job's context: the span is the job span's child.
      const end = Date.now();
      recordSpan(`chat ${e.model}`, {
        kind: SpanKind.CLIENT,
        startTime: end - e.durationMs,
        endTime: end,
        attributes: {
          'gen_ai.operation.name': 'chat',
          'gen_ai.request.model': e.model,
          'predictq.route': e.route,
          'predictq.lm.outcome': e.outcome,
          ...(e.usage ? { 'gen_ai.usage.input_tokens': e.usage.prompt_tokens, 'gen_ai.usage.output_tokens': e.usage.completion_tokens } : {}),
        },
        ...(e.outcome === 'ok' ? {} : { error: e.outcome }),
      });
    }
  });

  events.on('adapter:fallback', (e) => metrics.adapterFallbacks.inc({ route: routeLabel(e.route) }));

  /** What every job kind reports of one run: metrics, the span's attributes, one log line. */
  const record = (view: OutcomeView) => {
    const { outcome, data, durationMs } = view;
    const status = outcomeStatus(outcome);
    const result = outcome.kind === 'ok' ? outcome.result : undefined;
    const error = outcome.kind === 'ok' ? undefined : outcome.error;
    const model = modelLabel(result?.model ?? data?.model);
    metrics.predictions.inc({ model, status });
    if (result) metrics.predictionDuration.observe({ model, cached: String(result.cache.hit) }, durationMs / 1000);
    if (outcome.kind === 'wait') metrics.lmWaits.inc({ route: routeLabel(data?.route), reason: outcome.reason });
    // Shadow runs are counted apart (experiment-observers.ts): the caller never saw them.
    if (view.variant && !view.shadow) {
      const labels = { experiment: metrics.experimentLabel.of(view.experiment), variant: metrics.variantLabel.of(view.variant) };
      metrics.variantPredictions.inc({ ...labels, status });
      if (result) {
        metrics.variantDuration.observe(labels, durationMs / 1000);
        metrics.variantCostUsd.inc(labels, result.cost_usd);
      }
    }
    if (tracingActive()) {
      annotateSpan({
        'predictq.request_id': data?.request_id ?? '',
        'predictq.outcome': status,
        ...(result ? { 'predictq.cache': result.cache.level ?? 'miss' } : {}),
        ...(view.variant ? { 'predictq.variant': view.variant } : {}),
      });
    }
    const level = status === 'succeeded' || status === 'degraded' || status === 'requeued' ? 'info' : 'warn';
    // The line costs serializing inputs and outputs (for their lengths): none when nobody reads it.
    if (!logger.isLevelEnabled(level)) return;
    const line = {
      job_id: view.jobId,
      request_id: data?.request_id,
      tenant: data?.tenant,
      route: result?.route ?? data?.route,
      model: result?.model ?? data?.model,
      ...view.fields,
      duration_ms: durationMs,
      outcome: status,
      input_chars: jsonLength(view.inputs),
      ...(logPayloads && data ? { inputs: view.inputs } : {}),
      ...(result
        ? {
            cache: result.cache.level ?? 'miss',
            prompt_tokens: result.usage.prompt_tokens,
            completion_tokens: result.usage.completion_tokens,
            cost_usd: result.cost_usd,
            queue_ms: result.timings.queue_ms,
            lm_ms: result.timings.lm_ms,
            output_chars: jsonLength(view.outputs),
            ...(logPayloads ? { outputs: view.outputs } : {}),
          }
        : { error_code: error?.code }),
      ...(outcome.kind === 'wait' ? { wait_reason: outcome.reason, delay_ms: outcome.error.delayMs } : {}),
    };
    logger[level](line, `${view.noun}${SUFFIXES[status]}`);
  };

  events.on('prediction:outcome', ({ jobId, data, outcome, durationMs }) => {
    const result = outcome.kind === 'ok' ? outcome.result : undefined;
    record({
      jobId, data, outcome, durationMs,
      noun: 'prediction',
      variant: result?.variant ?? data?.variant ?? null,
      experiment: data?.experiment,
      shadow: data?.shadow !== undefined,
      fields: {
        program: data?.program,
        program_version: data?.program_version,
        experiment: data?.experiment,
        variant: result?.variant ?? data?.variant ?? null,
        ...(data?.shadow ? { shadow_of: data.shadow.control_id } : {}),
      },
      inputs: data?.inputs,
      outputs: result?.outputs,
    });
  });

  // Chat completions are counted as predictions of their model, and logged the same way.
  events.on('chat:outcome', ({ jobId, data, outcome, durationMs }) => {
    const result = outcome.kind === 'ok' ? outcome.result : undefined;
    record({
      jobId, data, outcome, durationMs,
      noun: 'chat completion',
      variant: null,
      shadow: false,
      fields: { kind: 'chat', stream: data?.stream },
      inputs: data?.body.messages,
      outputs: result?.completion.choices,
    });
  });
}

interface OutcomeView {
  jobId: string;
  data: { request_id: string; tenant: string; route: string; model: string } | undefined;
  outcome: Outcome<{ model: string; route: string; cache: { hit: boolean; level: string | null }; usage: { prompt_tokens: number; completion_tokens: number }; cost_usd: number; timings: { queue_ms: number; lm_ms: number } }>;
  durationMs: number;
  /** The log line's message: "prediction", "chat completion". */
  noun: string;
  variant: string | null;
  experiment?: string | null | undefined;
  /** A shadow run (counted apart: the caller never saw it). */
  shadow: boolean;
  /** Kind-specific fields of the log line. */
  fields: Record<string, unknown>;
  inputs: unknown;
  outputs: unknown;
}
