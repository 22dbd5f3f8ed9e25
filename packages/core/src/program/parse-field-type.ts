// Parses one type expression of a signature string ("list[str]", "Literal['a', 'b']") into a
// FieldType and DSPy's rendering of it (get_annotation_name), which the prompt shows.

import { ValidationError } from '../errors/index.js';
import { pyNumber } from './python-format.js';
import { parseLiteralAt } from './python-literal.js';
import type { FieldType, LiteralValue } from './types.js';

export interface ParsedType {
  type: FieldType;
  annotation: string;
}

export const SUPPORTED_TYPES = 'str, int, float, bool, list[T], dict[K, V], Literal[...], Optional[T], Any';

const MAX_DEPTH = 16;
const IDENT = /[A-Za-z_][A-Za-z0-9_]*/y;
const SCALARS: Record<string, ParsedType> = {
  str: { type: { kind: 'str' }, annotation: 'str' },
  int: { type: { kind: 'int' }, annotation: 'int' },
  float: { type: { kind: 'float' }, annotation: 'float' },
  bool: { type: { kind: 'bool' }, annotation: 'bool' },
  Any: { type: { kind: 'any' }, annotation: 'Any' },
};
// Dict keys that JSON object keys (always strings) can stand for.
const KEY_KINDS = new Set<FieldType['kind']>(['str', 'int', 'float', 'bool', 'literal', 'any']);

/** `where` names the field for error messages, e.g. `field "answer"`. */
export function parseFieldType(text: string, where: string): ParsedType {
  const reader = new TypeReader(text, where);
  const parsed = reader.type(0);
  reader.expectEnd();
  return parsed;
}

/** How typing.Literal prints a value: strings quoted like Python does, True/False, numbers. */
export function literalRepr(value: LiteralValue): string {
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') return pyNumber(value);
  const single = value.includes("'");
  const double = value.includes('"');
  if (single && !double) return `"${value}"`;
  if (single && double) return `'${value.replaceAll("'", "\\'")}'`;
  return `'${value}'`;
}

class TypeReader {
  private pos = 0;

  constructor(
    private readonly text: string,
    private readonly where: string,
  ) {}

  type(depth: number): ParsedType {
    if (depth > MAX_DEPTH) this.fail('the type is nested too deeply');
    this.skipSpace();
    const name = this.ident();
    if (name === undefined) this.fail(`expected a type name at "${this.rest()}" (supported: ${SUPPORTED_TYPES})`);
    this.skipSpace();
    const hasParams = this.text[this.pos] === '[';
    const scalar = SCALARS[name];
    if (scalar !== undefined) {
      if (hasParams) this.fail(`${name} takes no type parameters`);
      return scalar;
    }
    switch (name) {
      case 'list':
      case 'List':
        return hasParams ? this.list(depth) : { type: { kind: 'list', items: { kind: 'any' } }, annotation: 'list' };
      case 'dict':
      case 'Dict':
        return hasParams
          ? this.dict(depth)
          : { type: { kind: 'dict', keys: { kind: 'any' }, values: { kind: 'any' } }, annotation: 'dict' };
      case 'Optional':
        return this.optional(depth, hasParams);
      case 'Literal':
        return this.literal(hasParams);
      default:
        return this.fail(`unknown type "${name}" (supported: ${SUPPORTED_TYPES})`);
    }
  }

  expectEnd(): void {
    this.skipSpace();
    if (this.pos < this.text.length) this.fail(`unexpected "${this.rest()}" after the type`);
  }

  private list(depth: number): ParsedType {
    const params = this.params(depth);
    const [items] = params;
    if (params.length !== 1 || items === undefined) this.fail('list takes one type parameter, e.g. list[str]');
    return { type: { kind: 'list', items: items.type }, annotation: `list[${items.annotation}]` };
  }

  private dict(depth: number): ParsedType {
    const params = this.params(depth);
    const [keys, values] = params;
    if (params.length !== 2 || keys === undefined || values === undefined) {
      this.fail('dict takes two type parameters, e.g. dict[str, int]');
    }
    if (!KEY_KINDS.has(keys.type.kind)) this.fail(`dict keys must be str, int, float, bool or a Literal, not ${keys.annotation}`);
    return {
      type: { kind: 'dict', keys: keys.type, values: values.type },
      annotation: `dict[${keys.annotation}, ${values.annotation}]`,
    };
  }

  private optional(depth: number, hasParams: boolean): ParsedType {
    const params = hasParams ? this.params(depth) : [];
    const [inner] = params;
    if (params.length !== 1 || inner === undefined) this.fail('Optional takes one type parameter, e.g. Optional[int]');
    // Python folds Optional[Optional[T]] into Optional[T].
    if (inner.type.kind === 'optional') return inner;
    return { type: { kind: 'optional', inner: inner.type }, annotation: `Union[${inner.annotation}, NoneType]` };
  }

  private literal(hasParams: boolean): ParsedType {
    if (!hasParams) this.fail("Literal needs its values, e.g. Literal['yes', 'no']");
    const parsed = parseLiteralAt(this.text, this.pos);
    if (!parsed.ok || !Array.isArray(parsed.value)) {
      this.fail(`cannot read the Literal values at "${this.rest()}"; quote strings, e.g. Literal['yes', 'no']`);
    }
    this.pos = parsed.end;
    const values: LiteralValue[] = [];
    for (const value of parsed.value as unknown[]) {
      if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
        this.fail('Literal values must be strings, numbers or booleans');
      }
      // typing.Literal drops repeated values.
      if (!values.includes(value)) values.push(value);
    }
    if (values.length === 0) this.fail('Literal needs at least one value');
    return { type: { kind: 'literal', values }, annotation: `Literal[${values.map(literalRepr).join(', ')}]` };
  }

  private params(depth: number): ParsedType[] {
    this.pos++; // "["
    const params: ParsedType[] = [];
    for (;;) {
      params.push(this.type(depth + 1));
      this.skipSpace();
      const c = this.text[this.pos];
      this.pos++;
      if (c === ']') return params;
      if (c === undefined) this.fail('a "[" is never closed');
      if (c !== ',') this.fail(`unexpected "${c}" in type parameters`);
    }
  }

  private ident(): string | undefined {
    IDENT.lastIndex = this.pos;
    const name = IDENT.exec(this.text)?.[0];
    if (name !== undefined) this.pos += name.length;
    return name;
  }

  private skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos] ?? '')) this.pos++;
  }

  private rest(): string {
    const rest = this.text.slice(this.pos);
    return rest.length > 40 ? `${rest.slice(0, 40)}…` : rest;
  }

  private fail(problem: string): never {
    throw new ValidationError('invalid_signature', `${this.where}: ${problem}`);
  }
}
