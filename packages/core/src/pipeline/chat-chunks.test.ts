// A cached answer replayed as chunks reads back, through the openai SDK's own stream
// accumulator, as the same completion.
import { ChatCompletionStream } from 'openai/lib/ChatCompletionStream';
import { describe, expect, it } from 'vitest';
import type { StoredChatCompletion } from '../queue/index.js';
import { completionChunks } from './chat-chunks.js';

/** Chunks as the SDK's own readable stream carries them (one JSON chunk per line). */
function lines(chunks: unknown[]): ReadableStream<Uint8Array> {
  return new Response(chunks.map((c) => `${JSON.stringify(c)}\n`).join('')).body!;
}

const completion = {
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1_700_000_000,
  model: 'gpt-4o-mini',
  system_fingerprint: 'fp_1',
  choices: [
    { index: 0, message: { role: 'assistant', content: 'Paris is the capital of France. '.repeat(5), refusal: null }, finish_reason: 'stop', logprobs: null },
    {
      index: 1,
      message: { role: 'assistant', content: null, refusal: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{"city":"Paris"}' } }] },
      finish_reason: 'tool_calls',
      logprobs: null,
    },
  ],
  usage: { prompt_tokens: 12, completion_tokens: 34, total_tokens: 46 },
} as unknown as StoredChatCompletion;

describe('completionChunks', () => {
  it('replays content, tool calls, finish reasons and usage that the SDK assembles back', async () => {
    const chunks = completionChunks(completion);
    expect(chunks.length).toBeGreaterThan(4);
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: completion.usage });
    const assembled = await ChatCompletionStream.fromReadableStream(lines(chunks)).finalChatCompletion();
    expect(assembled.choices[0]?.message.content).toBe('Paris is the capital of France. '.repeat(5));
    expect(assembled.choices[1]?.message.tool_calls).toEqual([{ id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{"city":"Paris"}' } }]);
    expect(assembled.choices.map((c) => c.finish_reason)).toEqual(['stop', 'tool_calls']);
    expect(assembled.usage).toEqual(completion.usage);
    expect(assembled.system_fingerprint).toBe('fp_1');
  });
});
