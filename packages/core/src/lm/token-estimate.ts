// Prompt tokens estimated before the call: the budget's worst case and the TPM admission both
// use this one estimate. o200k with GPT-4o chat framing is exact for OpenAI's current models and
// the simulator; counted in linear time (count-tokens.ts), so no prompt can stall a worker.
import { countChatTokens } from './count-tokens.js';
import type { ChatMessage } from './lm-client.js';

/** Other tokenizers (Llama, Mistral, ...) can count up to ~10% more for the same text. */
const MARGIN = 1.1;

export function estimatePromptTokens(messages: readonly ChatMessage[]): number {
  return Math.ceil(countChatTokens(messages) * MARGIN);
}
