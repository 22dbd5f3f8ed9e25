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
export function outcomeStatus(outcome: Outcome): 'succeeded' | 'degraded' | 'requeued' | 'retried' | 'failed' {
  switch (outcome.kind) {
    case 'ok':
      return outcome.result.degraded ? 'degraded' : 'succeeded';
    case 'wait':
      return 'requeued';
    case 'retry':
      return 'retried';
    case 'fail':
      return 'failed';
  }
}

const MESSAGES = {
  succeeded: 'prediction',
  degraded: 'prediction',
  requeued: 'prediction requeued',
  retried: 'prediction attempt failed; retrying',
  failed: 'prediction failed',
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

  events.on('prediction:outcome', ({ jobId, data, outcome, durationMs }) => {
    const status = outcomeStatus(outcome);
    const result = outcome.kind === 'ok' ? outcome.result : undefined;
    const error = outcome.kind === 'ok' ? undefined : outcome.error;
    const model = modelLabel(result?.model ?? data?.model);
    const variant = result?.variant ?? data?.variant ?? null;
    metrics.predictions.inc({ model, status });
    if (result) metrics.predictionDuration.observe({ model, cached: String(result.cache.hit) }, durationMs / 1000);
    if (outcome.kind === 'wait') metrics.lmWaits.inc({ route: routeLabel(data?.route), reason: outcome.reason });
    // Shadow runs are counted apart (experiment-observers.ts): the caller never saw them.
    if (variant && !data?.shadow) {
      const labels = { experiment: metrics.experimentLabel.of(data?.experiment), variant: metrics.variantLabel.of(variant) };
      metrics.variantPredictions.inc({ ...labels, status });
      if (result) {
        metrics.variantDuration.observe(labels, durationMs / 1000);
        metrics.variantCostUsd.inc(labels, result.cost_usd);
      }
    }
    annotateSpan({
      'predictq.request_id': data?.request_id ?? '',
      'predictq.outcome': status,
      ...(result ? { 'predictq.cache': result.cache.level ?? 'miss' } : {}),
      ...(variant ? { 'predictq.variant': variant } : {}),
    });
    const line = {
      job_id: jobId,
      request_id: data?.request_id,
      tenant: data?.tenant,
      route: result?.route ?? data?.route,
      model: result?.model ?? data?.model,
      program: data?.program,
      program_version: data?.program_version,
      experiment: data?.experiment,
      variant,
      ...(data?.shadow ? { shadow_of: data.shadow.control_id } : {}),
      duration_ms: durationMs,
      outcome: status,
      input_chars: jsonLength(data?.inputs),
      ...(logPayloads && data ? { inputs: data.inputs } : {}),
      ...(result
        ? {
            cache: result.cache.level ?? 'miss',
            prompt_tokens: result.usage.prompt_tokens,
            completion_tokens: result.usage.completion_tokens,
            cost_usd: result.cost_usd,
            queue_ms: result.timings.queue_ms,
            lm_ms: result.timings.lm_ms,
            output_chars: jsonLength(result.outputs),
            ...(logPayloads ? { outputs: result.outputs } : {}),
          }
        : { error_code: error?.code }),
      ...(outcome.kind === 'wait' ? { wait_reason: outcome.reason, delay_ms: outcome.error.delayMs } : {}),
    };
    if (status === 'succeeded' || status === 'degraded' || status === 'requeued') logger.info(line, MESSAGES[status]);
    else logger.warn(line, MESSAGES[status]);
  });
}
