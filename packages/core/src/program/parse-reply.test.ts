import { describe, expect, it } from 'vitest';
import { ParseError } from '../errors/index.js';
import { parseReply } from './parse-reply.js';
import { parseSignature } from './parse-signature.js';
import type { Signature } from './types.js';

function failure(sig: Signature, text: string): { code: string; field: unknown } {
  try {
    parseReply(sig, text);
  } catch (err) {
    if (err instanceof ParseError) return { code: err.code, field: err.details?.field };
    throw err;
  }
  throw new Error('expected a ParseError');
}

const typed = parseSignature(
  "q -> answer, confidence: float, count: int, ok: bool, tags: list[str], meta: dict[str, int], label: Literal['positive', 'negative', 'neutral'], note: Optional[int]",
);

describe('parseReply', () => {
  it('reads typed values from a well-formed reply', () => {
    const reply = [
      '[[ ## answer ## ]]',
      'Paris is the capital.',
      '',
      'It has many museums.',
      '',
      '[[ ## confidence ## ]]',
      '0.85',
      '',
      '[[ ## count ## ]]',
      '42',
      '',
      '[[ ## ok ## ]]',
      'True',
      '',
      '[[ ## tags ## ]]',
      '["city", "capital"]',
      '',
      '[[ ## meta ## ]]',
      '{"population": 2100000}',
      '',
      '[[ ## label ## ]]',
      'positive',
      '',
      '[[ ## note ## ]]',
      'None',
      '',
      '[[ ## completed ## ]]',
    ].join('\n');
    expect(parseReply(typed, reply)).toEqual({
      answer: 'Paris is the capital.\n\nIt has many museums.',
      confidence: 0.85,
      count: 42,
      ok: true,
      tags: ['city', 'capital'],
      meta: { population: 2100000 },
      label: 'positive',
      note: null,
    });
  });

  it('accepts Python literals and lax conversions like pydantic', () => {
    const sig = parseSignature('q -> tags: list[str], pairs: dict[str, list[int]], flag: bool, n: int, x: float, t: list[int]');
    const reply =
      "[[ ## tags ## ]]\n['a', \"b\", 'it\\'s']\n[[ ## pairs ## ]]\n{'k': (1, 2,), \"j\": []}\n" +
      '[[ ## flag ## ]]\nno\n[[ ## n ## ]]\n"7"\n[[ ## x ## ]]\n3\n[[ ## t ## ]]\n[1.0, 2]\n';
    expect(parseReply(sig, reply)).toEqual({ tags: ['a', 'b', "it's"], pairs: { k: [1, 2], j: [] }, flag: false, n: 7, x: 3, t: [1, 2] });
  });

  it('reads JSON out of a code fence or surrounding prose for list and dict outputs', () => {
    const sig = parseSignature('q -> items: list[int], meta: dict[str, str]');
    const reply = '[[ ## items ## ]]\n```json\n[1, 2, 3]\n```\n[[ ## meta ## ]]\nHere you go: {"a": "b"} hope that helps';
    expect(parseReply(sig, reply)).toEqual({ items: [1, 2, 3], meta: { a: 'b' } });
  });

  it('matches Literal values tolerantly, as DSPy does', () => {
    const sig = parseSignature("q -> label: Literal['positive', 'negative'], n: Literal[1, 2], b: Literal[True]");
    const read = (label: string, n = '1', b = 'True') =>
      parseReply(sig, `[[ ## label ## ]]\n${label}\n[[ ## n ## ]]\n${n}\n[[ ## b ## ]]\n${b}`);
    expect(read('negative').label).toBe('negative');
    expect(read("  'negative'  ").label).toBe('negative');
    expect(read('"positive"').label).toBe('positive');
    expect(read("Literal['positive']").label).toBe('positive');
    expect(read('str[negative]').label).toBe('negative');
    expect(read('positive', '2', 'True')).toEqual({ label: 'positive', n: 2, b: true });
    expect(failure(sig, '[[ ## label ## ]]\nPositive\n[[ ## n ## ]]\n1\n[[ ## b ## ]]\nTrue')).toEqual({
      code: 'unparseable_reply',
      field: 'label',
    });
    expect(failure(sig, '[[ ## label ## ]]\npositive.\n[[ ## n ## ]]\n1\n[[ ## b ## ]]\nTrue').field).toBe('label');
    expect(failure(sig, '[[ ## label ## ]]\npositive\n[[ ## n ## ]]\n3\n[[ ## b ## ]]\nTrue').field).toBe('n');
  });

  it('keeps text after a header on the same line, and ignores text before the first header', () => {
    const sig = parseSignature('q -> answer, n: int');
    expect(parseReply(sig, 'Sure!\n[[ ## answer ## ]] Paris\n  [[ ## n ## ]]   3  ')).toEqual({ answer: 'Paris', n: 3 });
  });

  it('tolerates loose spacing inside headers', () => {
    const sig = parseSignature('q -> answer');
    expect(parseReply(sig, '[[## answer ##]]\nParis')).toEqual({ answer: 'Paris' });
  });

  it('ignores unknown sections, keeps the first of repeated ones, and stops at completed', () => {
    const sig = parseSignature('q -> answer, extra');
    const reply =
      '[[ ## thoughts ## ]]\nhmm\n[[ ## answer ## ]]\nfirst\n[[ ## answer ## ]]\nsecond\n[[ ## extra ## ]]\nx\n' +
      '[[ ## completed ## ]]\n[[ ## answer ## ]]\nafter';
    expect(parseReply(sig, reply)).toEqual({ answer: 'first', extra: 'x' });
    // A field that only appears after the end marker is missing.
    expect(failure(sig, '[[ ## answer ## ]]\na\n[[ ## completed ## ]]\n[[ ## extra ## ]]\nx')).toEqual({
      code: 'unparseable_reply',
      field: 'extra',
    });
  });

  it('reads an empty str section as an empty string', () => {
    expect(parseReply(parseSignature('q -> answer'), '[[ ## answer ## ]]\n\n[[ ## completed ## ]]')).toEqual({ answer: '' });
  });

  it('handles \\r\\n line endings', () => {
    const sig = parseSignature('q -> answer, n: int');
    expect(parseReply(sig, '[[ ## answer ## ]]\r\nParis\r\n\r\n[[ ## n ## ]]\r\n3\r\n')).toEqual({ answer: 'Paris', n: 3 });
  });

  it.each([
    ['a missing field', '[[ ## a ## ]]\nx', 'n'],
    ['a float that is prose', '[[ ## a ## ]]\nx\n[[ ## n ## ]]\nhigh', 'n'],
    ['an int with a fraction', '[[ ## a ## ]]\nx\n[[ ## n ## ]]\n2.5', 'n'],
    ['an empty int', '[[ ## a ## ]]\nx\n[[ ## n ## ]]\n', 'n'],
  ])('rejects %s with unparseable_reply naming the field', (_label, reply, field) => {
    expect(failure(parseSignature('q -> a, n: int'), reply)).toEqual({ code: 'unparseable_reply', field });
  });

  it.each([
    ['a list that is not a list', 'q -> xs: list[int]', '[[ ## xs ## ]]\n1, 2', 'xs'],
    ['a list with a bad item', 'q -> xs: list[int]', "[[ ## xs ## ]]\n[1, 'two']", 'xs'],
    ['a dict that is a list', 'q -> d: dict[str, int]', '[[ ## d ## ]]\n[1]', 'd'],
    ['a bool that is prose', 'q -> b: bool', '[[ ## b ## ]]\nmaybe', 'b'],
    ['an unclosed JSON list', 'q -> xs: list[int]', '[[ ## xs ## ]]\n[1, 2', 'xs'],
    ['a dict key of the wrong type', 'q -> d: dict[int, int]', '[[ ## d ## ]]\n{"x": 1}', 'd'],
  ])('rejects %s', (_label, signature, reply, field) => {
    expect(failure(parseSignature(signature), reply)).toEqual({ code: 'unparseable_reply', field });
  });

  it('names the first missing field when the reply has no sections at all', () => {
    expect(failure(typed, '')).toEqual({ code: 'unparseable_reply', field: 'answer' });
    expect(failure(typed, 'The answer is Paris.')).toEqual({ code: 'unparseable_reply', field: 'answer' });
  });

  it('never throws anything but ParseError, whatever the text (fuzz)', () => {
    const pieces = [
      '[[ ## answer ## ]]', '[[ ## confidence ## ]]', '[[ ## tags ## ]]', '[[ ## meta ## ]]', '[[ ## label ## ]]',
      '[[ ## note ## ]]', '[[ ## count ## ]]', '[[ ## ok ## ]]', '[[ ## completed ## ]]', '[[ ## ', ' ## ]]', '[[', ']]',
      '\n', '\r\n', '\u2028', ' ', '[', ']', '{', '}', '(', ')', '"', "'", '\\', ',', ':', '0.5', '-1e999', '1_0', 'True',
      'None', 'null', 'positive', "Literal['", '```', 'é', '😀', '\u0000', '\x1c', '«', '»', 'x'.repeat(50),
    ];
    let seed = 20240601;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const outcomes = { parsed: 0, rejected: 0 };
    for (let i = 0; i < 3000; i++) {
      const length = Math.floor(random() * 40);
      let text = '';
      for (let j = 0; j < length; j++) text += pieces[Math.floor(random() * pieces.length)];
      try {
        parseReply(typed, text);
        outcomes.parsed++;
      } catch (err) {
        expect(err).toBeInstanceOf(ParseError);
        expect((err as ParseError).code).toBe('unparseable_reply');
        outcomes.rejected++;
      }
    }
    expect(outcomes.rejected).toBeGreaterThan(0);
  });

  it('survives pathological nesting and size', () => {
    const sig = parseSignature('q -> xs: list[Any], d: dict');
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    expect(failure(sig, `[[ ## xs ## ]]\n${deep}\n[[ ## d ## ]]\n${'{'.repeat(50_000)}`).code).toBe('unparseable_reply');
    expect(failure(sig, `[[ ## xs ## ]]\n[${"'a',".repeat(50_000)}\n[[ ## d ## ]]\n{}`).field).toBe('xs');
  });

  it('stays linear on long runs of spaces and digits', () => {
    const sig = parseSignature('q -> a, x: float');
    const started = Date.now();
    const spaces = ' '.repeat(200_000);
    expect(parseReply(sig, `[[ ## a ## ]]\na${spaces}b\n[[ ## x ## ]]\n1`).a).toBe(`a${spaces}b`);
    expect(failure(sig, `[[ ## a ## ]]\na\n[[ ## x ## ]]\n${'1'.repeat(200_000)}x`).field).toBe('x');
    // Quadratic backtracking on 200k characters would take minutes; linear takes milliseconds.
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('only headers, no content: str fields are empty, typed fields fail', () => {
    const sig = parseSignature('q -> a, b');
    expect(parseReply(sig, '[[ ## a ## ]]\n[[ ## b ## ]]')).toEqual({ a: '', b: '' });
    expect(failure(parseSignature('q -> a, n: float'), '[[ ## a ## ]][[ ## n ## ]]').field).toBe('n');
  });
});
