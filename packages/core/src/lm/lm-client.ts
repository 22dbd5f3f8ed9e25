// A thin wrapper over the official openai client: one chat completion (a DSPy prompt's text, or
// a client's whole request passed through, streamed or not), classified errors, usage and
// response headers. The client's own retries are off: retrying is the queue's job.
import OpenAI from 'openai';
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionCreateParams } from 'openai/resources/chat/completions';
import { LmError, PredictqError } from '../errors/index.js';
import { retryAfterMs } from './retry-after.js';
import { leanFetch, REDIRECT_REFUSED } from './lean-fetch.js';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** Sampling parameters that are passed through to the LM (and change the answer). */
export interface SamplingParams {
  temperature?: number;
  max_tokens?: number;
  top_p?: number;
  stop?: string | string[];
  seed?: number;
  presence_penalty?: number;
  frequency_penalty?: number;
  response_format?: { type: 'text' | 'json_object' };
}

export interface LmUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cached_tokens: number;
  reasoning_tokens: number;
}

export interface LmResponse {
  text: string;
  finishReason: string;
  usage: LmUsage;
  model: string;
  headers: Record<string, string>;
}

export interface LmRequest {
  messages: ChatMessage[];
  params: SamplingParams;
  signal?: AbortSignal;
  requestId?: string;
}

export interface LmClientOptions {
  baseURL: string;
  apiKey: string;
  model: string;
  timeoutMs: number;
}

/** An OpenAI chat completion request as a client sent it; the route's model replaces `model`. */
export type ChatBody = Record<string, unknown> & { messages: unknown[] };

export interface CompletionRequest {
  body: ChatBody;
  signal?: AbortSignal;
  requestId?: string;
  /** Streams from the LM and hands each chunk over as it arrives. */
  onChunk?: (chunk: ChatCompletionChunk) => void;
}

/** The LM's whole answer, as it sent it (a streamed one assembled), with its usage read out. */
export interface CompletionResponse {
  completion: ChatCompletion;
  usage: LmUsage;
  /** Whether the LM reported usage (some servers send none when streaming). */
  usageReported: boolean;
  headers: Record<string, string>;
}

export interface LmCaller {
  chat(request: LmRequest): Promise<LmResponse>;
  /** A client's request passed through unchanged (streamed when `onChunk` is given). */
  complete?(request: CompletionRequest): Promise<CompletionResponse>;
}

function usageOf(usage: ChatCompletion['usage'] | undefined | null): LmUsage {
  return {
    prompt_tokens: usage?.prompt_tokens ?? 0,
    completion_tokens: usage?.completion_tokens ?? 0,
    total_tokens: usage?.total_tokens ?? 0,
    cached_tokens: usage?.prompt_tokens_details?.cached_tokens ?? 0,
    reasoning_tokens: usage?.completion_tokens_details?.reasoning_tokens ?? 0,
  };
}

/** The stream helper adds `parsed` fields OpenAI's API never sends; the assembled answer drops them. */
function withoutParsed(completion: ChatCompletion): ChatCompletion {
  return {
    ...completion,
    choices: completion.choices.map((choice) => {
      const { parsed: _parsed, ...message } = choice.message as ChatCompletion.Choice['message'] & { parsed?: unknown };
      const toolCalls = message.tool_calls?.map((call) => {
        if (call.type !== 'function') return call;
        const { parsed_arguments: _args, ...fn } = call.function as typeof call.function & { parsed_arguments?: unknown };
        return { ...call, function: fn };
      });
      return { ...choice, message: toolCalls ? { ...message, tool_calls: toolCalls } : message };
    }),
  };
}

export class LmClient implements LmCaller {
  readonly #client: OpenAI;
  readonly #model: string;
  readonly #timeoutMs: number;

  constructor(options: LmClientOptions) {
    this.#client = new OpenAI({
      baseURL: options.baseURL,
      apiKey: options.apiKey,
      maxRetries: 0,
      timeout: options.timeoutMs,
      // undici's request() instead of the global fetch: half the CPU per call (lean-fetch.ts).
      fetch: leanFetch,
      // A redirect from the LM is an error, not followed: prompts and keys only ever go to
      // base_url. (To be able to follow one, the global fetch also tees every request body.)
      fetchOptions: { redirect: 'error' },
    });
    this.#model = options.model;
    this.#timeoutMs = options.timeoutMs;
  }

  async chat(request: LmRequest): Promise<LmResponse> {
    try {
      const { data, response } = await this.#client.chat.completions
        .create(
          { model: this.#model, messages: request.messages, ...request.params, stream: false },
          {
            signal: request.signal,
            timeout: this.#timeoutMs,
            maxRetries: 0,
            headers: request.requestId ? { 'x-request-id': request.requestId } : undefined,
          },
        )
        .withResponse();
      const choice = data.choices[0];
      return {
        text: choice?.message.content ?? '',
        finishReason: choice?.finish_reason ?? 'stop',
        model: data.model,
        usage: usageOf(data.usage),
        headers: Object.fromEntries(response.headers.entries()),
      };
    } catch (err) {
      throw classifyLmError(err, request.signal);
    }
  }

  async complete(request: CompletionRequest): Promise<CompletionResponse> {
    const options = {
      signal: request.signal,
      timeout: this.#timeoutMs,
      maxRetries: 0,
      headers: request.requestId ? { 'x-request-id': request.requestId } : undefined,
    };
    const { stream: _stream, stream_options: streamOptions, ...body } = request.body;
    try {
      if (!request.onChunk) {
        const params = { ...body, model: this.#model, stream: false } as ChatCompletionCreateParams & { stream: false };
        const { data, response } = await this.#client.chat.completions.create(params, options).withResponse();
        return { completion: data, usage: usageOf(data.usage), usageReported: data.usage != null, headers: Object.fromEntries(response.headers.entries()) };
      }
      // Usage is always asked for: the call is paid by it (the client's own choice decides what it sees).
      const params = { ...body, model: this.#model, stream: true, stream_options: { ...(streamOptions as object | undefined), include_usage: true } };
      const stream = this.#client.chat.completions.stream(params as never, options);
      for await (const chunk of stream) request.onChunk(chunk);
      const completion = withoutParsed((await stream.finalChatCompletion()) as ChatCompletion);
      return { completion, usage: usageOf(completion.usage), usageReported: completion.usage != null, headers: {} };
    } catch (err) {
      throw classifyLmError(err, request.signal);
    }
  }
}

/** fetch's own failure for a redirect it was told not to follow (somewhere in the cause chain). */
function redirected(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e.message === REDIRECT_REFUSED) return true;
  }
  return false;
}

/** Maps whatever the openai client threw to an LmError with a stable code. */
export function classifyLmError(err: unknown, signal?: AbortSignal): PredictqError {
  if (err instanceof PredictqError) return err;
  if (err instanceof OpenAI.APIUserAbortError || (signal?.aborted && !(err instanceof OpenAI.APIError))) {
    const reason: unknown = signal?.reason;
    if (reason instanceof PredictqError) return reason;
    return new PredictqError('cancelled', 'the LM call was aborted', { cause: err });
  }
  if (err instanceof OpenAI.APIConnectionTimeoutError) {
    return new LmError('lm_timeout', 'the LM did not answer within the route timeout', { cause: err });
  }
  if (err instanceof OpenAI.APIConnectionError) {
    if (redirected(err)) {
      return new LmError('lm_connection_error', "the LM endpoint answered with a redirect, which predictq does not follow: set the route's base_url to the address it redirects to", { cause: err });
    }
    return new LmError('lm_connection_error', 'could not connect to the LM endpoint', { cause: err });
  }
  if (err instanceof OpenAI.APIError) {
    const status = err.status ?? 0;
    if (status === 429) {
      const wait = retryAfterMs(err.headers);
      return new LmError('lm_rate_limited', 'the LM rate-limited the request', {
        cause: err,
        status,
        ...(wait === undefined ? {} : { retryAfterMs: wait }),
      });
    }
    if (status === 408) return new LmError('lm_timeout', 'the LM timed out (408)', { cause: err, status });
    if (status >= 500) return new LmError('lm_upstream_error', `the LM failed with status ${status}`, { cause: err, status });
    return new LmError('lm_client_error', `the LM rejected the request with status ${status}`, { cause: err, status });
  }
  return new LmError('lm_connection_error', 'the LM call failed', { cause: err });
}
