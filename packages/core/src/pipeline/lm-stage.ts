// The LM side of a prediction, everything that runs on a cache miss:
//   budget reservation -> [breaker -> RPM/TPM admission -> LM call with timeout] -> settlement -> parse
// The reservation is settled before parsing (an unparseable reply was paid for) and released
// when nothing was spent. Waiting anywhere is a WaitError; a fallback answers at once instead of
// waiting for an open breaker. A ChatAdapter reply that does not parse is asked again with
// JSONAdapter's rendering, as DSPy does: a second call through the same guards and settlement.
import type { Clock } from '../clock/index.js';
import type { CostTracker, Reservation } from '../cost/index.js';
import { ParseError, WaitError } from '../errors/index.js';
import { estimatePromptTokens, type ChatMessage, type LmCaller, type LmResponse, type SamplingParams } from '../lm/index.js';
import type { PredictionResult } from '../queue/index.js';
import type { LmGuard } from '../resilience/index.js';
import { callLm } from './call-lm.js';
import type { PredictionContext } from './context.js';
import type { PipelineEvents } from './events.js';
import { withAdapterParams } from './prepare.js';
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

/** Shadow runs are paid for outside any tenant's budget (the global budget still applies). */
export const SHADOW_TENANT = '_shadow';

interface LmAsk {
  messages: ChatMessage[];
  params: SamplingParams & { max_tokens: number };
  promptTokens: number;
}

interface Answered {
  response: LmResponse;
  durationMs: number;
  costMicros: number;
}

function reserve(deps: LmStageDeps, ctx: PredictionContext, ask: LmAsk): Promise<Reservation> | undefined {
  const { data, route } = ctx;
  return deps.cost?.reserve({
    id: ctx.job.jobId,
    tenant: data.shadow ? SHADOW_TENANT : data.tenant,
    route,
    variant: data.variant,
    promptTokens: ask.promptTokens,
    maxTokens: ask.params.max_tokens,
  });
}

/** One LM call with everything that guards it and pays for it. */
async function guardedCall(deps: LmStageDeps, ctx: PredictionContext, ask: LmAsk): Promise<Answered> {
  const { data, job, route } = ctx;
  const reservation = await reserve(deps, ctx, ask);
  let settled = false;
  try {
    const send = (signal?: AbortSignal) =>
      callLm({ lm: deps.lm, clock: deps.clock, events: deps.events }, route, {
        messages: ask.messages,
        params: ask.params,
        ...(signal ? { signal } : {}),
        requestId: data.request_id,
      });
    const called = deps.guard
      ? await deps.guard.run({
          route,
          estimatedTokens: ask.promptTokens + ask.params.max_tokens,
          ...(job.signal ? { signal: job.signal } : {}),
          call: send,
          usedTokens: (r) => r.response.usage.total_tokens,
        })
      : await send(job.signal);
    const costMicros = (await reservation?.settle(called.response.usage)) ?? 0;
    settled = true;
    return { ...called, costMicros };
  } finally {
    if (!settled) await reservation?.release();
  }
}

export async function computePrediction(deps: LmStageDeps, ctx: PredictionContext): Promise<PredictionResult> {
  const { data, job, route } = ctx;
  const times = () => ({ enqueuedAt: job.enqueuedAt, startedAt: ctx.startedAt, now: deps.clock.now() });
  const call = async (ask: LmAsk): Promise<Answered | undefined> => {
    try {
      return await guardedCall(deps, ctx, ask);
    } catch (err) {
      if (data.fallback && err instanceof WaitError && err.code === 'lm_circuit_open') return undefined;
      throw err;
    }
  };
  const first = await call({ messages: ctx.messages, params: ctx.params, promptTokens: ctx.promptTokens() });
  if (!first) return degradedResult(data, route, data.fallback!, times());
  const calls = [first];
  let outputs: Record<string, unknown>;
  try {
    outputs = ctx.module.parse(first.response.text);
  } catch (err) {
    if (!(err instanceof ParseError) || !ctx.module.jsonFallback) throw err;
    deps.events.emit('adapter:fallback', { route: route.name, model: route.model });
    const messages = ctx.module.messages(data.inputs, 'json');
    const second = await call({ messages, params: withAdapterParams('json', ctx.params), promptTokens: estimatePromptTokens(messages) });
    if (!second) return degradedResult(data, route, data.fallback!, times());
    calls.push(second);
    outputs = ctx.module.parse(second.response.text, 'json');
  }
  const last = calls.at(-1)!;
  return computedResult(
    data,
    route,
    {
      outputs,
      usage: sumUsage(calls.map((c) => c.response.usage)),
      costMicros: calls.reduce((sum, c) => sum + c.costMicros, 0),
      finishReason: last.response.finishReason,
      lmMs: calls.reduce((sum, c) => sum + c.durationMs, 0),
    },
    times(),
  );
}

function sumUsage(usages: LmResponse['usage'][]): LmResponse['usage'] {
  const total = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, cached_tokens: 0, reasoning_tokens: 0 };
  for (const u of usages) for (const key of Object.keys(total) as (keyof typeof total)[]) total[key] += u[key];
  return total;
}
