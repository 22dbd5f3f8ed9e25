// The chat completion job: the client's request goes to the route's LM as it came, through the
// same cache (single-flight), budget, admission, breaker and settlement as a prediction. A
// streamed job relays the LM's chunks as they arrive (a cached answer is replayed as chunks);
// once a chunk has reached the client, a failed attempt cannot be retried unseen, so it is final.
import type { CacheLevel, CacheRequest } from '../cache/index.js';
import { canonicalJson } from '../cache/index.js';
import type { Clock } from '../clock/index.js';
import type { Config, RouteConfig } from '../config/index.js';
import { microsToUsd } from '../cost/index.js';
import { countChatTokens, countTextTokens, estimatePromptTokens, type ChatMessage, type LmCaller, type LmUsage } from '../lm/index.js';
import { ChatCompletionSchema, type ChatJobData, type ChatResult, type StoredChatCompletion } from '../queue/index.js';
import type { RelayWriter } from '../relay/index.js';
import type { CacheKind } from './cache-stage.js';
import { completionChunks } from './chat-chunks.js';
import type { JobContext } from './context.js';
import { meteredCall, type MeteredCallDeps } from './metered-call.js';

export interface ChatContext {
  data: ChatJobData;
  job: JobContext;
  route: RouteConfig;
  startedAt: number;
  /** Set by a streamed job once a chunk has been relayed. */
  streamed: boolean;
  relay: RelayWriter | undefined;
}

/** The text of each message, for the token estimate (image and audio parts left out). */
export function chatMessagesText(body: ChatJobData['body']): ChatMessage[] {
  return body.messages.map((m) => {
    const message = (m ?? {}) as { role?: unknown; content?: unknown };
    const content =
      typeof message.content === 'string'
        ? message.content
        : Array.isArray(message.content)
          ? message.content.map((part) => (typeof (part as { text?: unknown })?.text === 'string' ? (part as { text: string }).text : '')).join('\n')
          : '';
    return { role: (typeof message.role === 'string' ? message.role : 'user') as ChatMessage['role'], content };
  });
}

/** The completion tokens a request may use: its own limit, else the route's default. */
export function chatMaxTokens(body: ChatJobData['body'], route: RouteConfig): number {
  const limit = [body.max_completion_tokens, body.max_tokens].find((v): v is number => typeof v === 'number');
  return limit ?? route.default_max_tokens;
}

function chatResult(ctx: Pick<ChatContext, 'job' | 'route' | 'startedAt'>, completion: StoredChatCompletion, usage: ChatResult['usage'], parts: { costMicros: number; level: CacheLevel | null; lmMs: number; now: number }): ChatResult {
  return {
    completion,
    usage,
    cost_usd: microsToUsd(parts.costMicros),
    cost_micros: parts.costMicros,
    cache: { hit: parts.level !== null, level: parts.level },
    model: ctx.route.model,
    route: ctx.route.name,
    timings: {
      queue_ms: Math.max(0, ctx.startedAt - ctx.job.enqueuedAt),
      lm_ms: parts.lmMs,
      total_ms: Math.max(0, parts.now - ctx.startedAt),
    },
    completed_at: parts.now,
  };
}

function usageFrom(completion: StoredChatCompletion): ChatResult['usage'] {
  const usage = (completion as { usage?: { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number } }).usage;
  return { prompt_tokens: usage?.prompt_tokens ?? 0, completion_tokens: usage?.completion_tokens ?? 0, total_tokens: usage?.total_tokens ?? 0 };
}

/** The cache request of a chat completion (the same in the producer and the worker); undefined when it skips the cache. */
export function chatCacheRequest(config: Config, data: ChatJobData, route: RouteConfig): CacheRequest | undefined {
  const settings = config.cache;
  const temperature = data.body.temperature;
  if (!settings.enabled || data.cache === 'no-store') return undefined;
  if (typeof temperature === 'number' && temperature > 0 && !settings.store_nonzero_temperature) return undefined;
  const scope = `tenant:${data.tenant}`;
  // Who asks (`user`) and what is kept about it (`metadata`, `store`) do not change the answer.
  const { user: _user, metadata: _metadata, store: _store, ...answerShaping } = data.body;
  return {
    material: canonicalJson({ v: 1, kind: 'chat', scope, route: route.name, model: route.model, body: answerShaping }),
    scope,
    program: null,
    mode: data.cache === 'refresh' ? 'refresh' : 'default',
    ttlS: undefined,
  };
}

/** A cached answer given to another request: a fresh id, the original usage (what the hit saved). */
export function chatFromEntry(ctx: Pick<ChatContext, 'job' | 'route' | 'startedAt'>, completion: StoredChatCompletion, level: CacheLevel, now: number): ChatResult {
  const fresh = { ...completion, id: `chatcmpl-${ctx.job.jobId}` };
  return chatResult(ctx, fresh, usageFrom(completion), { costMicros: 0, level, lmMs: 0, now });
}

/** How a chat completion uses the cache; undefined when it skips it. */
export function chatCacheKind(config: Config, ctx: ChatContext, clock: Clock): CacheKind<ChatResult, StoredChatCompletion> | undefined {
  const request = chatCacheRequest(config, ctx.data, ctx.route);
  if (!request) return undefined;
  const settings = config.cache;
  return {
    request,
    type: ChatCompletionSchema,
    entryOf: (result) => (result.completion.choices.some((c) => c.finish_reason === 'length') && !settings.store_truncated ? undefined : result.completion),
    fromEntry: (completion, level) => chatFromEntry(ctx, completion, level, clock.now()),
  };
}

/** Usage when a server streamed none: the estimate of the prompt and the answer's text counted. */
function estimatedUsage(completion: StoredChatCompletion, promptTokens: number): LmUsage {
  const text = completion.choices
    .map((c) => {
      const message = (c as { message?: { content?: string | null; tool_calls?: Array<{ function?: { arguments?: string } }> } }).message;
      return `${message?.content ?? ''}${(message?.tool_calls ?? []).map((t) => t.function?.arguments ?? '').join('')}`;
    })
    .join('');
  const completionTokens = countTextTokens(text);
  return { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens, cached_tokens: 0, reasoning_tokens: 0 };
}

export async function computeChat(deps: MeteredCallDeps & { lm: LmCaller }, ctx: ChatContext): Promise<ChatResult> {
  const { data, job, route } = ctx;
  const complete = deps.lm.complete?.bind(deps.lm);
  if (!complete) throw new Error(`the LM client of route ${route.name} cannot pass chat completions through`);
  const messages = chatMessagesText(data.body);
  let tokens: number | undefined;
  const promptTokens = () => (tokens ??= estimatePromptTokens(messages));
  const relay = data.stream ? ctx.relay : undefined;
  relay?.start('miss');
  const { response, costMicros, durationMs } = await meteredCall(deps, {
    id: job.jobId,
    tenant: data.tenant,
    route,
    variant: null,
    promptTokens,
    maxTokens: chatMaxTokens(data.body, route),
    signal: job.signal,
    send: async (signal) => {
      const answer = await complete({
        body: data.body,
        ...(signal ? { signal } : {}),
        requestId: data.request_id,
        ...(relay
          ? {
              onChunk: (chunk) => {
                ctx.streamed = true;
                relay.chunk(chunk);
              },
            }
          : {}),
      });
      return answer.usageReported ? answer : { ...answer, usage: estimatedUsage(answer.completion as unknown as StoredChatCompletion, countChatTokens(messages)) };
    },
  });
  const completion = response.completion as unknown as StoredChatCompletion;
  const result = chatResult(ctx, completion, pick(response.usage), { costMicros, level: null, lmMs: durationMs, now: deps.clock.now() });
  await relay?.end(result.cost_usd);
  return result;
}

function pick(usage: LmUsage): ChatResult['usage'] {
  return {
    prompt_tokens: usage.prompt_tokens,
    completion_tokens: usage.completion_tokens,
    total_tokens: usage.total_tokens,
    cached_tokens: usage.cached_tokens,
    reasoning_tokens: usage.reasoning_tokens,
  };
}

/** A streamed job answered from the cache: the cached answer replayed as chunks. */
export async function replayChat(ctx: ChatContext, result: ChatResult): Promise<void> {
  const relay = ctx.data.stream ? ctx.relay : undefined;
  if (!relay || !result.cache.level) return;
  relay.start(result.cache.level);
  for (const chunk of completionChunks(result.completion)) relay.chunk(chunk);
  await relay.end(0);
}
