// Prompt tokens estimated before the call: the budget's worst case and the TPM admission both
// use this one estimate. gpt-tokenizer (o200k, GPT-4o chat framing) is exact for OpenAI's
// current models and the simulator.
import { encodeChat } from 'gpt-tokenizer';
import type { ChatMessage } from './lm-client.js';

/** Special-token text in user content is counted as plain text instead of throwing. */
const PLAIN_TEXT = { disallowedSpecial: new Set<string>() };

/** Other tokenizers (Llama, Mistral, ...) can count up to ~10% more for the same text. */
const MARGIN = 1.1;

export function estimatePromptTokens(messages: readonly ChatMessage[]): number {
  let tokens: number;
  try {
    tokens = encodeChat(messages, 'gpt-4o', PLAIN_TEXT).length;
  } catch {
    // Never fail a prediction over an estimate: ~3 characters a token is a safe over-count.
    tokens = Math.ceil(messages.reduce((n, m) => n + m.content.length + 8, 0) / 3);
  }
  return Math.ceil(tokens * MARGIN);
}
