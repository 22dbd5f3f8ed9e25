// The LM side of a prediction, what runs on a cache miss: a metered call with the DSPy prompt,
// then parsing (after settlement: an unparseable reply was paid for). A ChatAdapter reply that
// does not parse is asked again with JSONAdapter's rendering, as DSPy does: a second metered call
// through the same budget, guards and settlement. A fallback answers at once instead of waiting
// for an open breaker.
import { ParseError, WaitError } from '../errors/index.js';
import { estimatePromptTokens, type ChatMessage, type LmCaller, type LmResponse, type SamplingParams } from '../lm/index.js';
import type { PredictionResult } from '../queue/index.js';
import type { PredictionContext } from './context.js';
import { meteredCall, type MeteredCallDeps } from './metered-call.js';
import { withAdapterParams } from './prepare.js';
import { computedResult, degradedResult } from './prediction-result.js';

/** Shadow runs are paid for outside any tenant's budget (the global budget still applies). */
export const SHADOW_TENANT = '_shadow';

interface LmAsk {
  messages: ChatMessage[];
  params: SamplingParams & { max_tokens: number };
  promptTokens: () => number;
}

type Answered = { response: LmResponse; costMicros: number; durationMs: number };

function sumUsage(usages: LmResponse['usage'][]): LmResponse['usage'] {
  const total = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, cached_tokens: 0, reasoning_tokens: 0 };
  for (const u of usages) for (const key of Object.keys(total) as (keyof typeof total)[]) total[key] += u[key];
  return total;
}

export async function computePrediction(deps: MeteredCallDeps & { lm: LmCaller }, ctx: PredictionContext): Promise<PredictionResult> {
  const { data, job, route } = ctx;
  const times = () => ({ enqueuedAt: job.enqueuedAt, startedAt: ctx.startedAt, now: deps.clock.now() });
  /** One metered call; undefined when a fallback answers instead of waiting for an open breaker. */
  const call = async (ask: LmAsk): Promise<Answered | undefined> => {
    try {
      return await meteredCall(deps, {
        id: job.jobId,
        tenant: data.shadow ? SHADOW_TENANT : data.tenant,
        route,
        variant: data.variant,
        promptTokens: ask.promptTokens,
        maxTokens: ask.params.max_tokens,
        signal: job.signal,
        send: (signal) => deps.lm.chat({ messages: ask.messages, params: ask.params, ...(signal ? { signal } : {}), requestId: data.request_id }),
      });
    } catch (err) {
      if (data.fallback && err instanceof WaitError && err.code === 'lm_circuit_open') return undefined;
      throw err;
    }
  };
  const first = await call({ messages: ctx.messages, params: ctx.params, promptTokens: ctx.promptTokens });
  if (!first) return degradedResult(data, route, data.fallback!, times());
  const calls = [first];
  let outputs: Record<string, unknown>;
  try {
    outputs = ctx.module.parse(first.response.text);
  } catch (err) {
    if (!(err instanceof ParseError) || !ctx.module.jsonFallback) throw err;
    deps.events.emit('adapter:fallback', { route: route.name, model: route.model });
    const messages = ctx.module.messages(data.inputs, 'json');
    let tokens: number | undefined;
    const second = await call({ messages, params: withAdapterParams('json', ctx.params), promptTokens: () => (tokens ??= estimatePromptTokens(messages)) });
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
