import { describe, expect, it } from 'vitest';
import { pyJsonDumps, pyJsonDumpsIndent, pyNumber, pyStr } from './python-format.js';
import { dedent, pySplitLines, pyStrip } from './python-text.js';

describe('python-format', () => {
  it('prints numbers like Python repr', () => {
    expect([0, 3, -7, 0.1, 1.5, 1e-5, 0.0001, 1e16, 1.5e20, 123456.789, 9.1e15].map(pyNumber)).toEqual([
      '0', '3', '-7', '0.1', '1.5', '1e-05', '0.0001', '1e+16', '1.5e+20', '123456.789', '9100000000000000.0',
    ]);
    expect([NaN, Infinity, -Infinity].map(pyNumber)).toEqual(['nan', 'inf', '-inf']);
  });

  it('prints scalars like str() and containers like json.dumps', () => {
    expect([true, false, null, undefined, 'text', 2.5].map(pyStr)).toEqual(['True', 'False', 'None', 'None', 'text', '2.5']);
    expect(pyJsonDumps({ a: [1, 'x', true, null], 'é': { n: 0.5 }, skip: undefined })).toBe(
      '{"a": [1, "x", true, null], "é": {"n": 0.5}}',
    );
    expect(pyJsonDumps([])).toBe('[]');
    expect(pyJsonDumps('line\n"q"')).toBe('"line\\n\\"q\\""');
  });
});

describe('python-text', () => {
  it('strips what Python strips', () => {
    expect(pyStrip('\x1c\x85 a b \u3000\n')).toBe('a b');
    expect(pyStrip('\ufeffa')).toBe('\ufeffa'); // not whitespace to Python
  });

  it('splits lines like str.splitlines', () => {
    expect(pySplitLines('')).toEqual([]);
    expect(pySplitLines('a\n')).toEqual(['a']);
    expect(pySplitLines('\n')).toEqual(['']);
    expect(pySplitLines('a\r\nb\rc\u2028d\n\ne')).toEqual(['a', 'b', 'c', 'd', '', 'e']);
  });

  it('dedents like textwrap.dedent', () => {
    expect(dedent('    a\n      b\n  \n    c')).toBe('a\n  b\n\nc');
    expect(dedent('\ta\n  b')).toBe('\ta\n  b');
    expect(dedent('no indent\n  x')).toBe('no indent\n  x');
  });
});

describe('pyJsonDumpsIndent', () => {
  it('matches json.dumps(value, indent=2, ensure_ascii=False)', () => {
    // json.dumps({"a": [1, 2.5, {}], "b": {"c": None, "d": []}, "é": "x\"y"}, indent=2, ensure_ascii=False)
    expect(pyJsonDumpsIndent({ a: [1, 2.5, {}], b: { c: null, d: [] }, 'é': 'x"y' })).toBe(
      '{\n  "a": [\n    1,\n    2.5,\n    {}\n  ],\n  "b": {\n    "c": null,\n    "d": []\n  },\n  "é": "x\\"y"\n}',
    );
    expect(pyJsonDumpsIndent('plain')).toBe('"plain"');
    expect(pyJsonDumpsIndent(true)).toBe('true');
  });
});
