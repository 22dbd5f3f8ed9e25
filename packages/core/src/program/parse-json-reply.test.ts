import { describe, expect, it } from 'vitest';
import { firstBalancedObject, parseJsonReply } from './parse-json-reply.js';
import { parseSignature } from './parse-signature.js';

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
}

describe('parseJsonReply', () => {
  const sig = parseSignature("question -> answer, confidence: float, tags: list[str], ok: bool, label: Literal['a', 'b'], note: Optional[str]");

  it('reads a JSON object and converts each field like DSPy parse_value', () => {
    const reply = '{"answer": 42, "confidence": "0.75", "tags": "[\\"x\\", \\"y\\"]", "ok": "True", "label": "\'b\'", "note": null}';
    expect(parseJsonReply(sig, reply)).toEqual({ answer: '42', confidence: 0.75, tags: ['x', 'y'], ok: true, label: 'b', note: null });
  });

  it('repairs broken JSON and finds the object inside prose or a fence', () => {
    const simple = parseSignature('question -> answer');
    expect(parseJsonReply(simple, "{'answer': 'Paris',}")).toEqual({ answer: 'Paris' });
    expect(parseJsonReply(simple, 'Sure! Here it is:\n```json\n{"answer": "Paris"}\n```\nAnything else?')).toEqual({ answer: 'Paris' });
  });

  it('fills a missing Optional output with null, as apply_output_field_defaults does', () => {
    expect(parseJsonReply(parseSignature('q -> a, b: Optional[int]'), '{"a": "x"}')).toEqual({ a: 'x', b: null });
  });

  it.each([
    ['no JSON object at all', '[[ ## answer ## ]]\nParis'],
    ['a missing field', '{"confidence": 0.5}'],
    ['a wrong type', '{"answer": "a", "confidence": "high", "tags": [], "ok": true, "label": "a"}'],
    ['a value outside the Literal', '{"answer": "a", "confidence": 1, "tags": [], "ok": true, "label": "c"}'],
  ])('rejects %s with unparseable_reply', (_label, reply) => {
    expect(codeOf(() => parseJsonReply(sig, reply))).toBe('unparseable_reply');
  });
});

describe('firstBalancedObject', () => {
  it('finds the earliest balanced object, in linear time on unclosed braces', () => {
    expect(firstBalancedObject('x { {a} y')).toBe('{a}');
    expect(firstBalancedObject('{"a": {"b": 1}} {"c": 2}')).toBe('{"a": {"b": 1}}');
    expect(firstBalancedObject('no braces')).toBeUndefined();
    const started = performance.now();
    expect(firstBalancedObject('{'.repeat(200_000))).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
