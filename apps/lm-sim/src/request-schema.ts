// The part of an OpenAI chat completion request the simulator reads; everything else is
// accepted and ignored, as a lenient server would.
import { z } from 'zod';
import type { TokenMessage } from '@predictq/core/tokens';

const contentPart = z.looseObject({ type: z.string(), text: z.string().optional() });

const message = z.looseObject({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool', 'function']),
  content: z.union([z.string(), z.array(contentPart), z.null()]).optional(),
  name: z.string().optional(),
});

export const chatCompletionRequestSchema = z.looseObject({
  model: z.string().min(1),
  messages: z.array(message).min(1),
  stream: z.boolean().nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  n: z.number().int().min(1).max(16).nullish(),
  max_tokens: z.number().int().min(1).nullish(),
  max_completion_tokens: z.number().int().min(1).nullish(),
  seed: z.number().int().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().nullish() }).nullish(),
  tools: z.array(z.looseObject({ type: z.string(), function: z.looseObject({ name: z.string(), parameters: z.unknown().optional() }).optional() })).nullish(),
  tool_choice: z
    .union([z.enum(['none', 'auto', 'required']), z.looseObject({ type: z.string(), function: z.looseObject({ name: z.string() }).optional() })])
    .nullish(),
  response_format: z
    .looseObject({ type: z.string(), json_schema: z.looseObject({ schema: z.unknown().optional() }).optional() })
    .nullish(),
});

export type ChatCompletionRequest = z.infer<typeof chatCompletionRequestSchema>;

/** Text of each message, image and audio parts left out. */
export function toTokenMessages(messages: ChatCompletionRequest['messages']): TokenMessage[] {
  return messages.map((m) => ({
    role: m.role,
    content:
      typeof m.content === 'string'
        ? m.content
        : (m.content ?? []).flatMap((part) => (typeof part.text === 'string' ? [part.text] : [])).join('\n'),
  }));
}

/** Keys that do not change what a model would say: left out of the reply seed. Truncation by
 * max_tokens then cuts the very reply an unlimited request gets. */
const NON_CONTENT_KEYS = new Set(['stream', 'stream_options', 'user', 'metadata', 'store', 'max_tokens', 'max_completion_tokens']);

export function contentKeyOf(request: ChatCompletionRequest): Record<string, unknown> {
  return Object.fromEntries(Object.entries(request).filter(([key]) => !NON_CONTENT_KEYS.has(key)));
}
