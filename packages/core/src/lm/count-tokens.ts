// Token counts (o200k_base, GPT-4o chat framing) in time linear in the text's length.
// gpt-tokenizer's byte-pair merge is quadratic in the length of one pre-tokenized piece (300 KB
// of one letter is one piece and takes ~40 s, blocking the event loop), so text is encoded in
// segments of at most MAX_SEGMENT characters. Segments end where the o200k pre-tokenizer always
// ends a piece, so ordinary text counts exactly as `encode` does; only a run longer than a
// segment with no such place (one repeated character, a long base64 blob) is cut arbitrarily,
// which can shift its count by a token per cut.
import { createRequire } from 'node:module';

type Tokenizer = typeof import('gpt-tokenizer');
let loaded: Tokenizer | undefined;
/**
 * gpt-tokenizer, loaded on first use: its o200k tables add ~64 MB to a process, which a
 * producer without budgets (or a process that never counts) should not carry.
 */
function tokenizer(): Tokenizer {
  return (loaded ??= createRequire(import.meta.url)('gpt-tokenizer') as Tokenizer);
}

/** Long enough that cuts are rare in real text, short enough that the quadratic merge is cheap. */
const MAX_SEGMENT = 256;
/** Special-token text in user content is counted as plain text instead of throwing. */
const PLAIN_TEXT = { disallowedSpecial: new Set<string>() };
const CHAT_MODEL = 'gpt-4o';

export interface TokenMessage {
  role: string;
  content: string;
}

const WHITESPACE = /\s/u;
const LINE_BREAK = /[\r\n]/u;
const LETTER_OR_NUMBER = /[\p{L}\p{N}]/u;

/**
 * Whether every o200k piece ends before `text[i]`. No piece runs from non-whitespace into
 * whitespace, except punctuation taking the line breaks after it (`[^\s\p{L}\p{N}]+[\r\n/]*`),
 * so before a line break only a letter or digit counts. No piece runs from a line break into
 * non-whitespace either, except that same punctuation piece taking a `/`. The only lookahead,
 * in `\s+(?!\S)`, never reaches back across such a place.
 */
function piecesEndBefore(text: string, i: number): boolean {
  const prev = text[i - 1]!;
  const next = text[i]!;
  if (WHITESPACE.test(next)) return !WHITESPACE.test(prev) && (!LINE_BREAK.test(next) || LETTER_OR_NUMBER.test(prev));
  return LINE_BREAK.test(prev) && next !== '/';
}

/** An arbitrary cut for a run with no piece boundary, never inside a surrogate pair. */
function hardCut(text: string, at: number): number {
  const code = text.charCodeAt(at - 1);
  return code >= 0xd800 && code <= 0xdbff ? at - 1 : at;
}

/**
 * The text in consecutive segments of at most MAX_SEGMENT characters. Each cut is the last
 * piece boundary in reach, so two consecutive segments always span more than MAX_SEGMENT
 * characters and the scan stays linear.
 */
function* segments(text: string): Generator<string> {
  let start = 0;
  while (text.length - start > MAX_SEGMENT) {
    let cut = start + MAX_SEGMENT;
    while (cut > start && !piecesEndBefore(text, cut)) cut--;
    if (cut === start) cut = hardCut(text, start + MAX_SEGMENT);
    yield text.slice(start, cut);
    start = cut;
  }
  yield text.slice(start);
}

export function countTextTokens(text: string): number {
  let count = 0;
  for (const segment of segments(text)) count += tokenizer().encode(segment, PLAIN_TEXT).length;
  return count;
}

/**
 * Prompt tokens the way OpenAI counts a chat: contents plus per-message framing. encodeChat
 * encodes each content on its own between its framing tokens, so the framing is what it gives
 * for the same roles with empty contents.
 */
export function countChatTokens(messages: readonly TokenMessage[]): number {
  const framing = tokenizer().encodeChat(
    messages.map((m) => ({ role: m.role, content: '' })),
    CHAT_MODEL,
    PLAIN_TEXT,
  ).length;
  return messages.reduce((sum, m) => sum + countTextTokens(m.content), framing);
}

/** The first `maxTokens` tokens of `text`, and whether anything was cut. */
export function truncateToTokens(text: string, maxTokens: number): { text: string; tokens: number; truncated: boolean } {
  const tokens: number[] = [];
  for (const segment of segments(text)) {
    for (const token of tokenizer().encode(segment, PLAIN_TEXT)) tokens.push(token);
    if (tokens.length > maxTokens) return { text: tokenizer().decode(tokens.slice(0, maxTokens)), tokens: maxTokens, truncated: true };
  }
  return { text, tokens: tokens.length, truncated: false };
}
