import { describe, expect, it } from 'vitest';
import { parseLiteralAt, parsePythonLiteral } from './python-literal.js';

const value = (text: string) => {
  const result = parsePythonLiteral(text);
  return result.ok ? result.value : 'FAILED';
};

describe('parsePythonLiteral', () => {
  it('reads Python and JSON scalars', () => {
    expect(value('True')).toBe(true);
    expect(value('false')).toBe(false);
    expect(value(' None ')).toBeNull();
    expect(value('null')).toBeNull();
    expect(value('-1.5e3')).toBe(-1500);
    expect(value('1_000')).toBe(1000);
    expect(value('.5')).toBe(0.5);
  });

  it('reads both quote styles with Python escapes', () => {
    expect(value(`'it\\'s'`)).toBe("it's");
    expect(value(`"say \\"hi\\""`)).toBe('say "hi"');
    expect(value(`'tab\\tnew\\nline \\x41\\u00e9\\U0001F600 \\101'`)).toBe('tab\tnew\nline Aé😀 A');
    expect(value(`'keep \\d'`)).toBe('keep \\d');
    expect(value(`'''tri'ple'''`)).toBe("tri'ple");
  });

  it('reads lists, tuples, dicts and sets, with trailing commas', () => {
    expect(value("[1, 'a', [True, None],]")).toEqual([1, 'a', [true, null]]);
    expect(value('(1, 2)')).toEqual([1, 2]);
    expect(value('(1,)')).toEqual([1]);
    expect(value('(1)')).toBe(1);
    expect(value('()')).toEqual([]);
    expect(value("{'a': 1, 2: 'b', True: None,}")).toEqual({ a: 1, '2': 'b', True: null });
    expect(value('{}')).toEqual({});
    expect(value('{1, 2}')).toEqual([1, 2]);
  });

  it('keeps "__proto__" keys as data', () => {
    const parsed = value("{'__proto__': {'polluted': 1}}") as Record<string, unknown>;
    expect(Object.hasOwn(parsed, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each([
    ['text', 'hello'],
    ['unclosed list', '[1, 2'],
    ['unclosed string', "'abc"],
    ['missing comma', '[1 2]'],
    ['trailing junk', '[1] x'],
    ['mixed dict and set', "{1, 'a': 2}"],
    ['list as dict key', '{[1]: 2}'],
    ['bad hex escape', "'\\xZZ'"],
    ['escape at end', "'\\"],
    ['too deep', '['.repeat(1000) + ']'.repeat(1000)],
    ['infinite number', '1e999'],
    ['empty', ''],
  ])('fails on %s without throwing', (_label, text) => {
    expect(parsePythonLiteral(text)).toEqual({ ok: false });
  });

  it('parseLiteralAt reads a leading value and reports where it ends', () => {
    expect(parseLiteralAt("x = ['a', 1] and more", 4)).toEqual({ ok: true, value: ['a', 1], end: 12 });
  });
});
