import { describe, expect, it } from 'vitest';
import { ValidationError } from '../errors/index.js';
import { parseSignature } from './parse-signature.js';
import { validateInputs } from './validate-inputs.js';

const sig = parseSignature(
  "text, n: int, x: float, flag: bool, tags: list[str], counts: dict[str, int], mood: Literal['up', 'down', 3], maybe: Optional[int] -> out",
);
const good = { text: 'hi', n: 2, x: 0.5, flag: false, tags: ['a'], counts: { a: 1 }, mood: 'up', maybe: null };

function rejection(inputs: unknown, signature = sig): { code: string; field: unknown } {
  try {
    validateInputs(signature, inputs);
  } catch (err) {
    if (err instanceof ValidationError) return { code: err.code, field: err.details?.field };
    throw err;
  }
  throw new Error('expected a ValidationError');
}

describe('validateInputs', () => {
  it('returns the inputs when every field fits', () => {
    expect(validateInputs(sig, good)).toEqual(good);
    expect(validateInputs(sig, { ...good, x: 3, mood: 3 })).toMatchObject({ x: 3, mood: 3 });
  });

  it('lets Optional inputs be left out', () => {
    const { maybe: _maybe, ...rest } = good;
    expect(validateInputs(sig, rest)).toEqual(rest);
  });

  it('rejects non-object inputs', () => {
    for (const inputs of [null, 'text', [good], 42, undefined]) {
      expect(rejection(inputs).code).toBe('invalid_input');
    }
  });

  it('rejects a missing field, naming it', () => {
    const { n: _n, ...rest } = good;
    expect(rejection(rest)).toEqual({ code: 'invalid_input', field: 'n' });
  });

  it('rejects unknown fields, naming them', () => {
    expect(rejection({ ...good, answer: 'cheat' })).toEqual({ code: 'invalid_input', field: 'answer' });
  });

  it.each([
    ['text', 5],
    ['text', ['passage']],
    ['n', 2.5],
    ['n', '2'],
    ['x', '0.5'],
    ['x', Number.NaN],
    ['flag', 'false'],
    ['flag', 0],
    ['tags', 'a'],
    ['tags', ['a', 1]],
    ['counts', [1]],
    ['counts', { a: 'one' }],
    ['counts', null],
    ['mood', 'sideways'],
    ['mood', '3'],
    ['maybe', 1.5],
  ])('rejects %s = %j, naming the field', (field, value) => {
    expect(rejection({ ...good, [field]: value })).toEqual({ code: 'invalid_input', field });
  });

  it('says which field and type are wrong', () => {
    expect(() => validateInputs(sig, { ...good, tags: ['a', 1] })).toThrow(/"tags" must be list\[str\]: \[1\]: expected a string/);
  });

  it('checks dict keys against the key type', () => {
    const keyed = parseSignature('m: dict[int, str] -> out');
    expect(validateInputs(keyed, { m: { '1': 'a', '-2': 'b' } })).toEqual({ m: { '1': 'a', '-2': 'b' } });
    expect(rejection({ m: { one: 'a' } }, keyed)).toEqual({ code: 'invalid_input', field: 'm' });
  });

  it('does not mistake inherited properties for inputs', () => {
    const odd = parseSignature('toString, constructor -> out');
    expect(rejection({ toString: 'x' }, odd)).toEqual({ code: 'invalid_input', field: 'constructor' });
  });
});
