// Metrics, the one log line per prediction and the LM call span, hung off pipeline events.
// Inputs and outputs are logged as lengths unless config.logging.log_payloads says otherwise.
import {
  SpanKind,
  WaitError,
  annotateSpan,
  recordSpan,
  tracingActive,
  type Config,
  type Logger,
  type Metrics,
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

export function observePipeline(events: PipelineEvents, metrics: Metrics, logger: Logger, config: ObserverConfig): void {
  // A model label outside the configured set (only possible from hand-made job data) is "other".
  const models = new Set(config.routes.map((r) => r.model));
  const modelLabel = (model: string) => (models.has(model) ? model : 'other');
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

  events.on('prediction:succeeded', ({ jobId, data, result, durationMs }) => {
    if (!result) return;
    const status = result.degraded ? 'degraded' : 'succeeded';
    const model = modelLabel(result.model);
    metrics.predictions.inc({ model, status });
    metrics.predictionDuration.observe({ model, cached: String(result.cache.hit) }, durationMs / 1000);
    if (result.variant) {
      const variant = metrics.variantLabel.of(result.variant);
      metrics.variantPredictions.inc({ variant, status });
      metrics.variantDuration.observe({ variant }, durationMs / 1000);
      metrics.variantCostUsd.inc({ variant }, result.cost_usd);
    }
    annotateSpan({
      'predictq.request_id': data.request_id,
      'predictq.cache': result.cache.level ?? 'miss',
      'predictq.outcome': status,
      ...(result.variant ? { 'predictq.variant': result.variant } : {}),
    });
    logger.info(
      {
        job_id: jobId,
        request_id: data.request_id,
        tenant: data.tenant,
        route: result.route,
        model: result.model,
        program: data.program,
        variant: result.variant,
        cache: result.cache.level ?? 'miss',
        prompt_tokens: result.usage.prompt_tokens,
        completion_tokens: result.usage.completion_tokens,
        cost_usd: result.cost_usd,
        duration_ms: durationMs,
        queue_ms: result.timings.queue_ms,
        lm_ms: result.timings.lm_ms,
        outcome: status,
        input_chars: jsonLength(data.inputs),
        output_chars: jsonLength(result.outputs),
        ...(logPayloads ? { inputs: data.inputs, outputs: result.outputs } : {}),
      },
      'prediction',
    );
  });

  events.on('prediction:failed', ({ jobId, data, error, durationMs, willRetry }) => {
    // Waiting (open breaker, rate window, budget hold) puts the job back; it has not failed.
    // Neither has an attempt that the queue will retry: only final failures count as failed.
    const requeued = error instanceof WaitError;
    const outcome = requeued ? 'requeued' : willRetry ? 'retried' : 'failed';
    metrics.predictions.inc({ model: modelLabel(data.model), status: outcome });
    if (data.variant) metrics.variantPredictions.inc({ variant: metrics.variantLabel.of(data.variant), status: outcome });
    annotateSpan({ 'predictq.request_id': data.request_id, 'predictq.outcome': outcome });
    const line = {
      job_id: jobId,
      request_id: data.request_id,
      tenant: data.tenant,
      route: data.route,
      model: data.model,
      program: data.program,
      variant: data.variant,
      duration_ms: durationMs,
      outcome,
      error_code: error?.code,
      ...(requeued ? { delay_ms: error.delayMs } : {}),
      input_chars: jsonLength(data.inputs),
      ...(logPayloads ? { inputs: data.inputs } : {}),
    };
    if (requeued) logger.info(line, 'prediction requeued');
    else if (willRetry) logger.warn(line, 'prediction attempt failed; retrying');
    else logger.warn(line, 'prediction failed');
  });
}
