// Metrics and the one log line per prediction, hung off pipeline events.
import type { Logger, Metrics, PipelineEvents } from '@predictq/core';

export function observePipeline(events: PipelineEvents, metrics: Metrics, logger: Logger): void {
  events.on('lm:call', (e) => {
    metrics.lmCallDuration.observe({ route: e.route, outcome: e.outcome }, e.durationMs / 1000);
    if (e.usage) {
      metrics.tokensUsed.inc({ model: e.model, type: 'prompt' }, e.usage.prompt_tokens);
      metrics.tokensUsed.inc({ model: e.model, type: 'completion' }, e.usage.completion_tokens);
      if (e.usage.cached_tokens) metrics.tokensUsed.inc({ model: e.model, type: 'cached' }, e.usage.cached_tokens);
      if (e.usage.reasoning_tokens) metrics.tokensUsed.inc({ model: e.model, type: 'reasoning' }, e.usage.reasoning_tokens);
    }
  });
  events.on('prediction:succeeded', ({ jobId, data, result, durationMs }) => {
    if (!result) return;
    const status = result.degraded ? 'degraded' : 'succeeded';
    metrics.predictions.inc({ model: result.model, status });
    metrics.predictionDuration.observe({ model: result.model, cached: String(result.cache.hit) }, durationMs / 1000);
    logger.info(
      {
        job_id: jobId,
        request_id: data.request_id,
        route: result.route,
        model: result.model,
        variant: result.variant,
        cache: result.cache.level,
        prompt_tokens: result.usage.prompt_tokens,
        completion_tokens: result.usage.completion_tokens,
        cost_usd: result.cost_usd,
        duration_ms: durationMs,
        outcome: status,
      },
      'prediction',
    );
  });
  events.on('prediction:failed', ({ jobId, data, error, durationMs }) => {
    metrics.predictions.inc({ model: data.model, status: 'failed' });
    logger.warn(
      {
        job_id: jobId,
        request_id: data.request_id,
        route: data.route,
        model: data.model,
        variant: data.variant,
        duration_ms: durationMs,
        outcome: 'failed',
        error_code: error?.code,
      },
      'prediction failed',
    );
  });
}
