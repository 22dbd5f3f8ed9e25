import { decode, encode, encodeChat } from 'gpt-tokenizer';
import { describe, expect, it } from 'vitest';
import { countChatTokens, countTextTokens, truncateToTokens } from './count-tokens.js';

const PLAIN_TEXT = { disallowedSpecial: new Set<string>() };

const ESSAY = `# Release notes, v2.4.0

The queue now retries a failed call up to 3 times (backoff: 200ms, 400ms, 800ms). It's
faster: p50 went from 41.7 ms to 12.3 ms, and p99 from 310 ms to 95 ms.

    function retry(n) {
        return n > 0 ? call().catch(() => retry(n - 1)) : Promise.reject(new Error("done"));
    }

Known issues:
- Café names with accents (crème brûlée, naïve) are fine; so are 東京 and Ελληνικά.
- URLs like https://example.com/a/b?c=d&e=f and paths like /usr/local/bin still work.\t(tabs too)
- Emoji 🙂🚀 and "quotes", 'single quotes', and — dashes.


Two blank lines above, trailing spaces here   
and a line that ends in punctuation.
/leading slash after a line break, and CRLF lines:\r\nlike this one.\r\n
THE END, IN CAPITALS; WE'LL SEE YOU'RE DONE.  Double  spaces   and\u00a0no-break space.
`;

/** Ordinary text from a seeded generator: words, numbers, punctuation, line breaks. */
function generatedText(seed: number, length: number): string {
  const parts = ['the', 'Queue', 'worker', "don't", 'API', 'résumé', '42', '3.14', '中文', '🙂', ',', '.', ':', '/', '-', '(x)', '"a"'];
  const gaps = [' ', ' ', ' ', ' ', '  ', '\n', '\n\n', '.\n', '\t', ' \n', ', ', '\r\n'];
  let state = seed;
  const next = (n: number) => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state % n;
  };
  let text = '';
  while (text.length < length) text += parts[next(parts.length)]! + gaps[next(gaps.length)]!;
  return text;
}

describe('countTextTokens', () => {
  it("equals gpt-tokenizer's count for ordinary multi-paragraph text", () => {
    const long = Array.from({ length: 8 }, () => ESSAY).join('\n');
    expect(long.length).toBeGreaterThan(5000);
    expect(countTextTokens(ESSAY)).toBe(encode(ESSAY).length);
    expect(countTextTokens(long)).toBe(encode(long).length);
    for (let seed = 1; seed <= 40; seed++) {
      const text = generatedText(seed, 3000);
      expect(countTextTokens(text), `seed ${seed}`).toBe(encode(text).length);
    }
  });

  it('counts special-token text as plain text, as the simulator always has', () => {
    const text = 'ignore <|endoftext|> and <|im_start|>';
    expect(countTextTokens(text)).toBe(encode(text, PLAIN_TEXT).length);
    expect(countTextTokens('')).toBe(0);
  });

  it('counts 300 KB of one character, or of one 2-character pattern, without the quadratic merge', { timeout: 5000 }, () => {
    // Exact counts of these would take ~40 s; a short run of the same text gives the rate.
    for (const unit of ['a', 'ab']) {
      const huge = unit.repeat(300_000 / unit.length);
      const sample = unit.repeat(3000 / unit.length);
      const expected = encode(sample).length * 100;
      expect(Math.abs(countTextTokens(huge) - expected)).toBeLessThanOrEqual(expected * 0.02);
    }
  });
});

describe('countChatTokens', () => {
  it('equals encodeChat with GPT-4o framing on ordinary messages', () => {
    const messages = [
      { role: 'system', content: 'You are terse. Answer in one sentence.' },
      { role: 'user', content: ESSAY },
      { role: 'assistant', content: 'Noted.' },
      { role: 'user', content: generatedText(7, 2000) },
      { role: 'user', content: '' },
    ];
    expect(countChatTokens(messages)).toBe(encodeChat(messages, 'gpt-4o').length);
    expect(countChatTokens([])).toBe(encodeChat([], 'gpt-4o').length);
  });

  it('counts a 300 KB one-character message', { timeout: 5000 }, () => {
    const tokens = countChatTokens([{ role: 'user', content: 'x'.repeat(300_000) }]);
    expect(tokens).toBeGreaterThan(countTextTokens('x'.repeat(300_000)));
  });
});

describe('truncateToTokens', () => {
  it('keeps the first tokens exactly as encode and decode would', () => {
    const tokens = encode(ESSAY);
    for (const max of [1, 7, 50, tokens.length - 1]) {
      expect(truncateToTokens(ESSAY, max)).toEqual({ text: decode(tokens.slice(0, max)), tokens: max, truncated: true });
    }
    expect(truncateToTokens(ESSAY, tokens.length)).toEqual({ text: ESSAY, tokens: tokens.length, truncated: false });
    expect(truncateToTokens(ESSAY, Number.POSITIVE_INFINITY).truncated).toBe(false);
  });

  it('cuts 300 KB of one character to a prefix', { timeout: 5000 }, () => {
    const huge = 'a'.repeat(300_000);
    const cut = truncateToTokens(huge, 10);
    expect(cut.truncated).toBe(true);
    expect(cut.tokens).toBe(10);
    expect(huge.startsWith(cut.text) && cut.text.length > 0).toBe(true);
    expect(truncateToTokens(huge, Number.POSITIVE_INFINITY)).toEqual({ text: huge, tokens: countTextTokens(huge), truncated: false });
  });
});
