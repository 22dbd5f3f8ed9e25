// A simulated completion as OpenAI streams it (server-sent events of chat.completion.chunk):
// a role chunk, the content in word-sized pieces (latency_per_token_ms apart, so a client sees
// chunks before the answer is done), tool calls, the finish chunk, the usage chunk when
// stream_options.include_usage asks, then `data: [DONE]`.
import type { Response } from 'express';
import type { ChatCompletion } from './completion.js';

export interface StreamOptions {
  includeUsage: boolean;
  /** Pause before each content piece; resolves false once the client is gone. */
  pause(): Promise<boolean>;
}

/** Word-sized pieces (a word and the space after it), close to what a tokenizer streams. */
export function pieces(text: string): string[] {
  return text.match(/\S+\s*|\s+/g) ?? [];
}

/** Writes the stream; false when the client left before the end. */
export async function streamCompletion(res: Response, completion: ChatCompletion, options: StreamOptions): Promise<boolean> {
  res.status(200).set({ 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
  res.flushHeaders();
  const base = { id: completion.id, object: 'chat.completion.chunk', created: completion.created, model: completion.model, system_fingerprint: completion.system_fingerprint };
  const usage = options.includeUsage ? { usage: null } : {};
  const send = (choices: unknown[], extra: Record<string, unknown> = usage) => res.write(`data: ${JSON.stringify({ ...base, choices, ...extra })}\n\n`);
  for (const choice of completion.choices) {
    const { index } = choice;
    send([{ index, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null }]);
    for (const piece of pieces(choice.message.content ?? '')) {
      if (!(await options.pause())) return false;
      send([{ index, delta: { content: piece }, logprobs: null, finish_reason: null }]);
    }
    for (const [i, call] of (choice.message.tool_calls ?? []).entries()) {
      if (!(await options.pause())) return false;
      send([{ index, delta: { tool_calls: [{ index: i, id: call.id, type: 'function', function: { name: call.function.name, arguments: '' } }] }, logprobs: null, finish_reason: null }]);
      send([{ index, delta: { tool_calls: [{ index: i, function: { arguments: call.function.arguments } }] }, logprobs: null, finish_reason: null }]);
    }
    send([{ index, delta: {}, logprobs: null, finish_reason: choice.finish_reason }]);
  }
  if (options.includeUsage) send([], { usage: completion.usage });
  res.end('data: [DONE]\n\n');
  return true;
}
