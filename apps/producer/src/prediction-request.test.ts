// A request's shape and resolution: every check a client can fail, with its stable code.
import { describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH, loadConfig, type ErrorCode } from '@predictq/core';
import { parsePredictionRequest, resolvePrediction } from './prediction-request.js';

const config = loadConfig({}, { routes: [{ name: 'default', model: 'sim-small', base_url: 'http://127.0.0.1:1/v1' }], queue: { deadline_s: 600 } });
const context = { tenant: 'default', requestId: 'r', now: 1_000 };

function codeOf(body: unknown): ErrorCode | undefined {
  try {
    resolvePrediction(config, parsePredictionRequest(body), context);
    return undefined;
  } catch (err) {
    return (err as { code: ErrorCode }).code;
  }
}

/** As a client would send it: JSON text nested `depth` levels (objects and lists alternating). */
function nestedJson(depth: number): string {
  const open = Array.from({ length: depth }, (_, i) => (i % 2 ? '[' : '{"k":')).join('');
  const close = Array.from({ length: depth }, (_, i) => (i % 2 ? ']' : '}')).reverse().join('');
  return `${open}"leaf"${close}`;
}

const nested = (depth: number): unknown => JSON.parse(nestedJson(depth));

describe('prediction requests', () => {
  it('answers deep nesting anywhere with nesting_too_deep (a 40 KB body nested thousands deep), and accepts the limit', () => {
    expect(nestedJson(5000).length).toBeGreaterThan(10_000);
    const deep = nested(5000);
    expect(codeOf({ signature: 'question: dict -> answer', inputs: { question: deep } })).toBe('nesting_too_deep');
    expect(codeOf({ signature: 'question: list -> answer', inputs: { question: [deep] } })).toBe('nesting_too_deep');
    expect(codeOf({ signature: 'question: Any -> answer', inputs: { question: deep } })).toBe('nesting_too_deep');
    expect(codeOf({ signature: 'q -> answer', inputs: { q: 'x' }, demos: [{ q: deep, answer: 'a' }] })).toBe('nesting_too_deep');
    expect(codeOf({ signature: 'q -> answer: Any', inputs: { q: 'x' }, fallback: { answer: deep } })).toBe('nesting_too_deep');
    // body -> inputs -> question is 2 levels; the value may use the rest.
    expect(codeOf({ signature: 'question: Any -> answer', inputs: { question: nested(MAX_JSON_DEPTH - 2) } })).toBeUndefined();
    expect(codeOf({ signature: 'question: Any -> answer', inputs: { question: nested(MAX_JSON_DEPTH - 1) } })).toBe('nesting_too_deep');
  });

  it('refuses a body that is not an object with invalid_request', () => {
    for (const body of [null, 42, 'x', [], true]) expect(codeOf(body)).toBe('invalid_request');
  });

  it('refuses a field named __proto__ instead of dropping it (it would share another request\'s cache key)', () => {
    const body = (extra: string) => JSON.parse(`{"signature": "question -> answer", "inputs": {"question": "q"}, ${extra}}`);
    expect(codeOf(JSON.parse('{"signature": "question -> answer", "inputs": {"question": "q", "__proto__": "x"}}'))).toBe('invalid_request');
    expect(codeOf(body('"demos": [{"question": "q", "__proto__": "a"}]'))).toBe('invalid_request');
    expect(codeOf(body('"fallback": {"answer": "a", "__proto__": "a"}'))).toBe('invalid_request');
    expect(codeOf(body('"metadata": {"__proto__": "a"}'))).toBe('invalid_request');
  });

  it("checks a fallback against the signature's output fields and types", () => {
    const base = { signature: 'question -> answer: str, confidence: float', inputs: { question: 'q' } };
    expect(codeOf({ ...base, fallback: { answer: 'unknown', confidence: 0 } })).toBeUndefined();
    expect(codeOf({ ...base, fallback: { answer: 'unknown' } })).toBe('invalid_request');
    expect(codeOf({ ...base, fallback: { answer: 'unknown', confidence: 'high' } })).toBe('invalid_request');
    expect(codeOf({ ...base, fallback: { answer: 'x', confidence: 1, extra: 1 } })).toBe('invalid_request');
    // ChainOfThought's reasoning need not be made up.
    expect(codeOf({ ...base, module: 'ChainOfThought', fallback: { answer: 'unknown', confidence: 0 } })).toBeUndefined();
    try {
      resolvePrediction(config, parsePredictionRequest({ ...base, fallback: { answer: 'x', confidence: 'high' } }), context);
    } catch (err) {
      expect((err as { details: unknown }).details).toEqual({ field: 'fallback.confidence' });
    }
  });

  it('sets the deadline from deadline_s, or from queue.deadline_s', () => {
    const given = resolvePrediction(config, parsePredictionRequest({ signature: 'q -> a', inputs: { q: 'x' }, deadline_s: 30 }), context);
    expect(given.data.deadline_at).toBe(1_000 + 30_000);
    const defaulted = resolvePrediction(config, parsePredictionRequest({ signature: 'q -> a', inputs: { q: 'x' } }), context);
    expect(defaulted.data.deadline_at).toBe(1_000 + 600_000);
    expect(codeOf({ signature: 'q -> a', inputs: { q: 'x' }, deadline_s: 0 })).toBe('invalid_request');
    expect(codeOf({ signature: 'q -> a', inputs: { q: 'x' }, deadline_s: 8 * 86_400 })).toBe('invalid_request');
  });
});
