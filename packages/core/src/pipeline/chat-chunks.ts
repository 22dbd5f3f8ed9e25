// A whole chat completion as the chunks a stream of it would have carried, to replay a cached
// answer as a stream: a role chunk and the content per choice, tool calls whole, the finish
// chunk, and the usage chunk (predictq reads usage from it; the producer passes it on only when
// the client asked for it).
import type { StoredChatCompletion } from '../queue/index.js';

interface Message {
  role?: string;
  content?: string | null;
  refusal?: string | null;
  tool_calls?: Array<{ id: string; type: string; function?: { name: string; arguments: string } }>;
}

/** Replayed content goes out in pieces of about this many characters. */
const PIECE_CHARS = 64;

export function completionChunks(completion: StoredChatCompletion): Array<Record<string, unknown>> {
  const base = {
    id: completion.id,
    object: 'chat.completion.chunk',
    created: completion.created,
    model: completion.model,
    ...('system_fingerprint' in completion ? { system_fingerprint: completion.system_fingerprint } : {}),
  };
  const chunks: Array<Record<string, unknown>> = [];
  for (const choice of completion.choices) {
    const message = ((choice as { message?: Message }).message ?? {}) as Message;
    const { index } = choice;
    const logprobs = (choice as { logprobs?: unknown }).logprobs ?? null;
    chunks.push({ ...base, choices: [{ index, delta: { role: message.role ?? 'assistant', content: '' }, logprobs: null, finish_reason: null }] });
    const content = message.content ?? '';
    for (let at = 0; at < content.length; at += PIECE_CHARS) {
      chunks.push({ ...base, choices: [{ index, delta: { content: content.slice(at, at + PIECE_CHARS) }, logprobs: null, finish_reason: null }] });
    }
    if (message.refusal) chunks.push({ ...base, choices: [{ index, delta: { refusal: message.refusal }, logprobs: null, finish_reason: null }] });
    if (message.tool_calls?.length) {
      const calls = message.tool_calls.map((call, i) => ({ index: i, ...call }));
      chunks.push({ ...base, choices: [{ index, delta: { tool_calls: calls }, logprobs: null, finish_reason: null }] });
    }
    chunks.push({ ...base, choices: [{ index, delta: {}, logprobs, finish_reason: choice.finish_reason }] });
  }
  if ('usage' in completion && completion.usage) chunks.push({ ...base, choices: [], usage: completion.usage });
  return chunks;
}
