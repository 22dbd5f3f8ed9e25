import { describe, expect, it } from 'vitest';
import { ValidationError } from '../errors/index.js';
import { parseSignature } from './parse-signature.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof ValidationError ? err.code : `not a ValidationError: ${String(err)}`;
  }
  return undefined;
}

describe('parseSignature', () => {
  it('defaults untyped fields to str and writes DSPy default instructions', () => {
    const sig = parseSignature('question -> answer');
    expect(sig.inputs).toEqual([{ name: 'question', type: { kind: 'str' }, annotation: 'str' }]);
    expect(sig.outputs).toEqual([{ name: 'answer', type: { kind: 'str' }, annotation: 'str' }]);
    expect(sig.instructions).toBe('Given the fields `question`, produce the fields `answer`.');
  });

  it('lists every field in the default instructions, in order', () => {
    const sig = parseSignature('context: list[str], question: str -> answer: str, confidence: float');
    expect(sig.inputs.map((f) => f.name)).toEqual(['context', 'question']);
    expect(sig.outputs.map((f) => [f.name, f.annotation])).toEqual([
      ['answer', 'str'],
      ['confidence', 'float'],
    ]);
    expect(sig.inputs[0]?.type).toEqual({ kind: 'list', items: { kind: 'str' } });
    expect(sig.instructions).toBe('Given the fields `context`, `question`, produce the fields `answer`, `confidence`.');
  });

  it('keeps explicit instructions, including an empty string', () => {
    expect(parseSignature('a -> b', 'Be brief.').instructions).toBe('Be brief.');
    expect(parseSignature('a -> b', '').instructions).toBe('');
  });

  it('parses Literal values and renders them as Python does', () => {
    const sig = parseSignature("sentence -> sentiment: Literal['positive', 'negative', 'neutral']");
    expect(sig.outputs[0]?.type).toEqual({ kind: 'literal', values: ['positive', 'negative', 'neutral'] });
    expect(sig.outputs[0]?.annotation).toBe("Literal['positive', 'negative', 'neutral']");

    const mixed = parseSignature(`x -> y: Literal["it's", 1, -2.5, True, 'a, b', 'say "hi"', 'both \\' "']`);
    expect(mixed.outputs[0]?.type).toEqual({ kind: 'literal', values: ["it's", 1, -2.5, true, 'a, b', 'say "hi"', `both ' "`] });
    expect(mixed.outputs[0]?.annotation).toBe(`Literal["it's", 1, -2.5, True, 'a, b', 'say "hi"', 'both \\' "']`);
  });

  it('drops repeated Literal values like typing.Literal', () => {
    expect(parseSignature("x -> y: Literal['a', 'a', 'b']").outputs[0]?.annotation).toBe("Literal['a', 'b']");
  });

  it('parses containers, bare containers, Optional and Any', () => {
    const sig = parseSignature('q -> items: list[int], meta: dict[str, int], ok: bool, raw: list, bag: dict, n: Optional[int], x: Any');
    const byName = Object.fromEntries(sig.outputs.map((f) => [f.name, f]));
    expect(byName.items?.type).toEqual({ kind: 'list', items: { kind: 'int' } });
    expect(byName.meta?.type).toEqual({ kind: 'dict', keys: { kind: 'str' }, values: { kind: 'int' } });
    expect(byName.ok?.type).toEqual({ kind: 'bool' });
    expect(byName.raw?.type).toEqual({ kind: 'list', items: { kind: 'any' } });
    expect(byName.bag?.type).toEqual({ kind: 'dict', keys: { kind: 'any' }, values: { kind: 'any' } });
    expect(byName.n?.type).toEqual({ kind: 'optional', inner: { kind: 'int' } });
    expect(sig.outputs.map((f) => f.annotation)).toEqual([
      'list[int]',
      'dict[str, int]',
      'bool',
      'list',
      'dict',
      'Union[int, NoneType]',
      'Any',
    ]);
  });

  it('renders typing aliases and nesting the way get_annotation_name does', () => {
    const sig = parseSignature('a: List[Dict[str, list[float]]], b: Optional[Optional[str]] -> c: dict[str, Any]');
    expect(sig.inputs.map((f) => f.annotation)).toEqual(['list[dict[str, list[float]]]', 'Union[str, NoneType]']);
    expect(sig.outputs[0]?.annotation).toBe('dict[str, Any]');
  });

  it('tolerates irregular whitespace', () => {
    const sig = parseSignature('  a :  list[ int ] ,b->  c:Literal[ "x" ,"y" ]  ');
    expect(sig.inputs.map((f) => f.annotation)).toEqual(['list[int]', 'str']);
    expect(sig.outputs[0]?.annotation).toBe("Literal['x', 'y']");
  });

  it.each([
    ['missing arrow', 'question answer'],
    ['two arrows', 'a -> b -> c'],
    ['empty inputs', ' -> answer'],
    ['empty outputs', 'question -> '],
    ['empty string', ''],
    ['stray comma', 'a,, b -> c'],
    ['trailing comma', 'a, -> c'],
    ['duplicate across sides', 'answer -> answer'],
    ['duplicate on one side', 'a, a -> b'],
    ['space in name', 'my question -> answer'],
    ['name starting with a digit', '1q -> a'],
    ['leading underscore', '_q -> a'],
    ['__proto__', '__proto__ -> a'],
    ['python keyword', 'from -> to'],
    ['reserved marker name', 'q -> completed'],
    ['unknown type', 'q -> a: string'],
    ['unknown generic', 'q -> a: tuple[int]'],
    ['missing type after colon', 'q -> a:'],
    ['two colons', 'q -> a: int: str'],
    ['unbalanced open bracket', 'q -> a: list[int'],
    ['unbalanced close bracket', 'q -> a: list[int]]'],
    ['mismatched brackets', 'q -> a: list[int)'],
    ['unterminated quote', "q -> a: Literal['x]"],
    ['list with two params', 'q -> a: list[int, str]'],
    ['dict with one param', 'q -> a: dict[str]'],
    ['dict with a list key', 'q -> a: dict[list[int], str]'],
    ['scalar with params', 'q -> a: str[int]'],
    ['bare Optional', 'q -> a: Optional'],
    ['bare Literal', 'q -> a: Literal'],
    ['empty Literal', 'q -> a: Literal[]'],
    ['Literal None', 'q -> a: Literal[None]'],
    ['unquoted Literal word', 'q -> a: Literal[yes, no]'],
    ['junk after type', 'q -> a: int float'],
    ['dotted type', 'q -> a: typing.List[int]'],
  ])('rejects %s with invalid_signature', (_label, text) => {
    expect(codeOf(() => parseSignature(text))).toBe('invalid_signature');
  });

  it('names the problem in the message', () => {
    expect(() => parseSignature('q -> a: string')).toThrow(/unknown type "string"/);
    expect(() => parseSignature('a, a -> b')).toThrow(/"a" appears more than once/);
    expect(() => parseSignature('q -> a: list[int')).toThrow(/unbalanced/);
  });

  it('rejects absurd nesting without overflowing the stack', () => {
    const deep = `q -> a: ${'list['.repeat(5000)}int${']'.repeat(5000)}`;
    expect(codeOf(() => parseSignature(deep))).toBe('invalid_signature');
  });

  it('rejects a non-string signature', () => {
    expect(codeOf(() => parseSignature(42 as unknown as string))).toBe('invalid_signature');
  });
});
