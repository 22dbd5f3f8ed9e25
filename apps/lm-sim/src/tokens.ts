// Token counting with gpt-tokenizer (o200k_base, the GPT-4o encoding) for every model name:
// the simulator answers any model, so one encoding keeps counts predictable.
import { decode, encode, encodeChat } from 'gpt-tokenizer';

/** Special-token text in user content is counted as plain text instead of throwing. */
const PLAIN_TEXT = { disallowedSpecial: new Set<string>() };
const CHAT_MODEL = 'gpt-4o';

export interface TokenMessage {
  role: string;
  content: string;
}

/** Prompt tokens the way OpenAI counts a chat: contents plus per-message framing tokens. */
export function countPromptTokens(messages: readonly TokenMessage[]): number {
  return encodeChat(messages, CHAT_MODEL, PLAIN_TEXT).length;
}

export function countTextTokens(text: string): number {
  return encode(text, PLAIN_TEXT).length;
}

/** The first `maxTokens` tokens of `text`, and whether anything was cut. */
export function truncateToTokens(text: string, maxTokens: number): { text: string; tokens: number; truncated: boolean } {
  const tokens = encode(text, PLAIN_TEXT);
  if (tokens.length <= maxTokens) return { text, tokens: tokens.length, truncated: false };
  return { text: decode(tokens.slice(0, maxTokens)), tokens: maxTokens, truncated: true };
}
