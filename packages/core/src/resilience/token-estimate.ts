// Tokens a call may use, estimated before it for TPM admission: prompt + max_tokens. The
// prompt side is ~4 characters a token (plus per-message framing); the real usage corrects it.
import type { ChatMessage } from '../lm/index.js';

const CHARS_PER_TOKEN = 4;
const TOKENS_PER_MESSAGE = 4;

export function estimateCallTokens(messages: readonly ChatMessage[], maxTokens: number): number {
  let prompt = 3;
  for (const message of messages) prompt += TOKENS_PER_MESSAGE + Math.ceil(message.content.length / CHARS_PER_TOKEN);
  return prompt + maxTokens;
}
