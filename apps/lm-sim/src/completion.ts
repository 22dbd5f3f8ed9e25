// Builds the simulated chat completion for a validated request: deterministic content (a DSPy
// adapter reply, a tool call when tools are offered, JSON for response_format, else a plain
// sentence), max_tokens truncation and usage counted with the real tokenizer.
import { randomUUID } from 'node:crypto';
import { countChatTokens, countTextTokens, truncateToTokens, type TokenMessage } from '@predictq/core/tokens';
import { dspyReply, parseDspyPrompt, topicOf } from './chat-adapter-reply.js';
import type { AnswerStyle } from './faults.js';
import { createPrng, pick, seedFrom, sha256Hex, stableStringify } from './prng.js';
import { contentKeyOf, toTokenMessages, type ChatCompletionRequest } from './request-schema.js';
import { valueForSchema } from './schema-value.js';

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  system_fingerprint: string;
  choices: Array<{
    index: number;
    message: { role: 'assistant'; content: string | null; refusal: null; annotations: []; tool_calls?: ToolCall[] };
    finish_reason: 'stop' | 'length' | 'tool_calls';
    logprobs: null;
  }>;
  usage: {
    prompt_tokens: number;
    completion_tokens: number;
    total_tokens: number;
    prompt_tokens_details: { cached_tokens: number };
    completion_tokens_details: { reasoning_tokens: number };
  };
}

export interface ToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

interface FunctionTool {
  name: string;
  parameters?: unknown;
}

/** The tool this request makes the model call, if any: a forced one, or (auto) the first while the user has the last word. */
function toolToCall(request: ChatCompletionRequest): FunctionTool | undefined {
  const tools = (request.tools ?? []).flatMap((t) => (t.type === 'function' && t.function ? [t.function] : []));
  const choice = request.tool_choice;
  if (tools.length === 0 || choice === 'none') return undefined;
  if (typeof choice === 'object' && choice !== null) return tools.find((t) => t.name === choice.function?.name);
  const last = request.messages[request.messages.length - 1];
  return choice === 'required' || last?.role === 'user' ? tools[0] : undefined;
}

/** A hash of the request's content without its model: the same prompt to two models. */
export function promptKeyOf(request: ChatCompletionRequest): string {
  const { model: _model, ...content } = contentKeyOf(request);
  return sha256Hex(stableStringify(content));
}

const PLAIN_STYLE: AnswerStyle = { shared: false, unformatted: false, fate: 'same' };

export function simulateCompletion(request: ChatCompletionRequest, nowMs: number, style: AnswerStyle = PLAIN_STYLE): ChatCompletion {
  const messages = toTokenMessages(request.messages);
  const dspyKey = style.shared ? promptKeyOf(request) : sha256Hex(stableStringify(contentKeyOf(request)));
  const requestKey = style.fate === 'diverge' ? `${dspyKey}:diverged` : dspyKey;
  const limit = minDefined(request.max_tokens, request.max_completion_tokens);
  const dspy = parseDspyPrompt(messages);
  const tool = toolToCall(request);
  const format = request.response_format;
  const choices = Array.from({ length: request.n ?? 1 }, (_, index) => {
    const seed = `${requestKey}:${index}`;
    if (tool) {
      const args = JSON.stringify(valueForSchema(tool.parameters ?? { type: 'object' }, seedFrom(seed)));
      return {
        tokens: countTextTokens(tool.name) + countTextTokens(args),
        choice: {
          index,
          message: {
            role: 'assistant' as const,
            content: null,
            refusal: null,
            annotations: [] as [],
            tool_calls: [{ id: `call_${sha256Hex(seed).slice(0, 24)}`, type: 'function' as const, function: { name: tool.name, arguments: args } }],
          },
          finish_reason: 'tool_calls' as const,
          logprobs: null,
        },
      };
    }
    const plain = () => (dspy ? dspyReply(dspy, seed, style) : plainReply(request.model, messages, seed));
    const full =
      format?.type === 'json_schema'
        ? JSON.stringify(valueForSchema(format.json_schema?.schema ?? { type: 'object' }, seedFrom(seed), [topicOf(messages.at(-1)?.content ?? '')]))
        : format?.type === 'json_object' && !dspy
          ? JSON.stringify({ answer: plain() })
          : plain();
    const cut = truncateToTokens(full, limit ?? Number.POSITIVE_INFINITY);
    return {
      tokens: cut.tokens,
      choice: {
        index,
        message: { role: 'assistant' as const, content: cut.text, refusal: null, annotations: [] as [] },
        finish_reason: cut.truncated ? ('length' as const) : ('stop' as const),
        logprobs: null,
      },
    };
  });
  const promptTokens = countChatTokens(messages);
  const completionTokens = choices.reduce((sum, c) => sum + c.tokens, 0);
  return {
    id: `chatcmpl-${randomUUID().replace(/-/g, '')}`,
    object: 'chat.completion',
    created: Math.floor(nowMs / 1000),
    model: request.model,
    system_fingerprint: 'fp_lm_sim',
    choices: choices.map((c) => c.choice),
    usage: {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
      prompt_tokens_details: { cached_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0 },
    },
  };
}

const OPENINGS = ['Here is a simulated answer.', 'Short answer:', 'In brief:', 'Simulated response:'];
const BODIES = [
  'the question about "%s" has a straightforward reply.',
  'considering "%s", the most likely answer is the simple one.',
  'regarding "%s", there is nothing more to add.',
];

/** A plain sentence for prompts that are not DSPy adapter prompts. */
function plainReply(model: string, messages: readonly TokenMessage[], seed: string): string {
  const rand = createPrng(seedFrom(seed));
  const lastUser = [...messages].reverse().find((m) => m.role === 'user') ?? messages[messages.length - 1];
  const topic = topicOf(lastUser?.content ?? '');
  const body = pick(rand, BODIES).replace('%s', () => topic);
  return `${pick(rand, OPENINGS)} ${body} (${model}, ref ${sha256Hex(seed).slice(0, 8)})`;
}

function minDefined(...values: Array<number | null | undefined>): number | undefined {
  const defined = values.filter((v): v is number => typeof v === 'number');
  return defined.length > 0 ? Math.min(...defined) : undefined;
}
