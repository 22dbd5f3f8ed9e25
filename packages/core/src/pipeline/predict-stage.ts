// The LM side of a prediction, what runs on a cache miss: a metered call with the DSPy prompt,
// then parsing (after settlement: an unparseable reply was paid for). A fallback answers at once
// instead of waiting for an open breaker.
import { WaitError } from '../errors/index.js';
import type { LmCaller } from '../lm/index.js';
import type { PredictionResult } from '../queue/index.js';
import type { PredictionContext } from './context.js';
import { meteredCall, type MeteredCallDeps } from './metered-call.js';
import { computedResult, degradedResult } from './prediction-result.js';

export async function computePrediction(deps: MeteredCallDeps & { lm: LmCaller }, ctx: PredictionContext): Promise<PredictionResult> {
  const { data, job, route } = ctx;
  const times = () => ({ enqueuedAt: job.enqueuedAt, startedAt: ctx.startedAt, now: deps.clock.now() });
  let called;
  try {
    called = await meteredCall(deps, {
      id: job.jobId,
      tenant: data.tenant,
      route,
      variant: data.variant,
      promptTokens: ctx.promptTokens(),
      maxTokens: ctx.params.max_tokens,
      signal: job.signal,
      send: (signal) =>
        deps.lm.chat({ messages: ctx.messages, params: ctx.params, ...(signal ? { signal } : {}), requestId: data.request_id }),
    });
  } catch (err) {
    if (data.fallback && err instanceof WaitError && err.code === 'lm_circuit_open') return degradedResult(data, route, data.fallback, times());
    throw err;
  }
  const { response, costMicros, durationMs } = called;
  const outputs = ctx.module.parse(response.text);
  return computedResult(data, route, { outputs, usage: response.usage, costMicros, finishReason: response.finishReason, lmMs: durationMs }, times());
}
