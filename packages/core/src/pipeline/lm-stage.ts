// The LM side of a prediction, everything that runs on a cache miss:
//   budget reservation -> [breaker -> RPM/TPM admission -> LM call with timeout] -> settlement -> parse
// The reservation is settled before parsing (an unparseable reply was paid for) and released
// when nothing was spent. Waiting anywhere is a WaitError; a fallback answers at once instead of
// waiting for an open breaker.
import type { Clock } from '../clock/index.js';
import type { CostTracker, Reservation } from '../cost/index.js';
import { WaitError } from '../errors/index.js';
import type { LmCaller } from '../lm/index.js';
import type { PredictionResult } from '../queue/index.js';
import type { LmGuard } from '../resilience/index.js';
import { callLm } from './call-lm.js';
import type { PredictionContext } from './context.js';
import type { PipelineEvents } from './events.js';
import { computedResult, degradedResult } from './prediction-result.js';

export interface LmStageDeps {
  lm: LmCaller;
  clock: Clock;
  events: PipelineEvents;
  /** Without it predictions cost 0 and no budget applies. */
  cost?: CostTracker | undefined;
  /** Without it calls go straight out (no limits, no breaker, the LM client's own timeout). */
  guard?: LmGuard | undefined;
}

function reserve(deps: LmStageDeps, ctx: PredictionContext): Promise<Reservation> | undefined {
  const { data, route } = ctx;
  return deps.cost?.reserve({
    id: ctx.job.jobId,
    tenant: data.tenant,
    route,
    variant: data.variant,
    promptTokens: ctx.promptTokens(),
    maxTokens: ctx.params.max_tokens,
  });
}

export async function computePrediction(deps: LmStageDeps, ctx: PredictionContext): Promise<PredictionResult> {
  const { data, job, route } = ctx;
  const times = () => ({ enqueuedAt: job.enqueuedAt, startedAt: ctx.startedAt, now: deps.clock.now() });
  const reservation = await reserve(deps, ctx);
  let settled = false;
  try {
    const send = (signal?: AbortSignal) =>
      callLm({ lm: deps.lm, clock: deps.clock, events: deps.events }, route, {
        messages: ctx.messages,
        params: ctx.params,
        ...(signal ? { signal } : {}),
        requestId: data.request_id,
      });
    let called: Awaited<ReturnType<typeof send>>;
    try {
      called = deps.guard
        ? await deps.guard.run({
            route,
            estimatedTokens: ctx.promptTokens() + ctx.params.max_tokens,
            ...(job.signal ? { signal: job.signal } : {}),
            call: send,
            usedTokens: (r) => r.response.usage.total_tokens,
          })
        : await send(job.signal);
    } catch (err) {
      if (data.fallback && err instanceof WaitError && err.code === 'lm_circuit_open') return degradedResult(data, route, data.fallback, times());
      throw err;
    }
    const { response, durationMs } = called;
    const costMicros = (await reservation?.settle(response.usage)) ?? 0;
    settled = true;
    const outputs = ctx.module.parse(response.text);
    return computedResult(data, route, { outputs, usage: response.usage, costMicros, finishReason: response.finishReason, lmMs: durationMs }, times());
  } finally {
    if (!settled) await reservation?.release();
  }
}
