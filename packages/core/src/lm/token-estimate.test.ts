import { encodeChat } from 'gpt-tokenizer';
import { describe, expect, it } from 'vitest';
import { estimatePromptTokens } from './token-estimate.js';

describe('estimatePromptTokens', () => {
  it('is the GPT-4o chat count plus 10% for other tokenizers', () => {
    const messages = [
      { role: 'system' as const, content: 'Your input fields are: `question` (str).' },
      { role: 'user' as const, content: '[[ ## question ## ]]\nWhat is the capital of France?' },
    ];
    expect(estimatePromptTokens(messages)).toBe(Math.ceil(encodeChat(messages, 'gpt-4o').length * 1.1));
  });

  it('counts a 300 KB prompt of one repeated character (quadratic in a plain BPE) without stalling', { timeout: 5000 }, () => {
    expect(estimatePromptTokens([{ role: 'user', content: 'a'.repeat(300_000) }])).toBeGreaterThan(30_000);
  });
});
