// Python type annotations as DSPy prints them (`list[str]`, `Literal['a', 'b']`,
// `Union[str, NoneType]`, `dict[str, Any]`, a class name) parsed into a tree, and values of
// those types generated deterministically.
import { pick } from './prng.js';

export type Literal = string | number | boolean | null;
export type TypeArg = TypeNode | { literal: Literal };
export interface TypeNode {
  name: string;
  args: TypeArg[];
}
export type SimValue = string | number | boolean | null | SimValue[] | { [key: string]: SimValue };

/** Parses an annotation; text it cannot read becomes a bare name (generated as a string). */
export function parseAnnotation(text: string): TypeNode {
  const parser = new AnnotationParser(text.trim());
  try {
    const node = parser.parseArg();
    if ('name' in node && parser.done()) return node;
  } catch {
    // fall through: unreadable annotations are treated as opaque names
  }
  return { name: text.trim(), args: [] };
}

class AnnotationParser {
  private pos = 0;
  constructor(private readonly text: string) {}

  done(): boolean {
    this.skipSpace();
    return this.pos === this.text.length;
  }

  /** A type, or a PEP 604 union of types (`str | None`). */
  parseArg(): TypeArg {
    const first = this.parseSingle();
    const members = [first];
    for (this.skipSpace(); this.text[this.pos] === '|'; this.skipSpace()) {
      this.pos += 1;
      members.push(this.parseSingle());
    }
    return members.length === 1 ? first : { name: 'Union', args: members };
  }

  private parseSingle(): TypeArg {
    this.skipSpace();
    if (this.text.startsWith('...', this.pos)) {
      this.pos += 3;
      return { name: '...', args: [] };
    }
    const ch = this.text[this.pos];
    if (ch === "'" || ch === '"') return { literal: this.parseString(ch) };
    const number = /^-?\d+(\.\d+)?/.exec(this.text.slice(this.pos));
    if (number) {
      this.pos += number[0].length;
      return { literal: Number(number[0]) };
    }
    if (ch === '[') return { name: 'list', args: this.parseArgs() }; // Callable[[int], str]
    const ident = /^[A-Za-z_][\w.]*/.exec(this.text.slice(this.pos));
    if (!ident) throw new SyntaxError(`unexpected ${ch ?? 'end'} at ${this.pos}`);
    this.pos += ident[0].length;
    const name = ident[0].replace(/^(typing|builtins|types|collections\.abc)\./, '');
    this.skipSpace();
    return { name, args: this.text[this.pos] === '[' ? this.parseArgs() : [] };
  }

  private parseArgs(): TypeArg[] {
    this.pos += 1; // '['
    const args: TypeArg[] = [];
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] === ']') break;
      args.push(this.parseArg());
      this.skipSpace();
      if (this.text[this.pos] === ',') this.pos += 1;
      else if (this.text[this.pos] !== ']') throw new SyntaxError(`expected , or ] at ${this.pos}`);
    }
    this.pos += 1; // ']'
    return args;
  }

  private parseString(quote: string): string {
    let out = '';
    for (this.pos += 1; this.pos < this.text.length; this.pos += 1) {
      const ch = this.text[this.pos];
      if (ch === '\\') {
        this.pos += 1;
        out += this.text[this.pos] ?? '';
      } else if (ch === quote) {
        this.pos += 1;
        return out;
      } else {
        out += ch;
      }
    }
    throw new SyntaxError('unterminated string');
  }

  private skipSpace(): void {
    while (this.text[this.pos] === ' ') this.pos += 1;
  }
}

/** What a generator needs: randomness (seeded by the caller) and a phrase for strings. */
export interface ValueContext {
  rand: () => number;
  /** A short phrase for a string nested in a container. */
  phrase: () => string;
  /** The JSON schema DSPy printed for this field, used for classes it cannot name. */
  schema?: unknown;
}

const LIST_NAMES = new Set(['list', 'List', 'Sequence', 'set', 'Set', 'frozenset', 'FrozenSet', 'Iterable']);
const DICT_NAMES = new Set(['dict', 'Dict', 'Mapping', 'MutableMapping', 'OrderedDict', 'defaultdict']);
const UNION_NAMES = new Set(['Union', 'UnionType', 'Optional']);
const NONE_NAMES = new Set(['None', 'NoneType']);
const KEY_WORDS = ['alpha', 'beta', 'gamma', 'delta', 'epsilon'];
const MAX_DEPTH = 6;

function isNode(arg: TypeArg | undefined): arg is TypeNode {
  return arg !== undefined && 'name' in arg;
}

function nodeArgs(node: TypeNode): TypeNode[] {
  return node.args.filter(isNode);
}

/** A value of `node`'s type; `topLevelString` renders a top-level `str`. */
export function generateValue(node: TypeNode, ctx: ValueContext, topLevelString: () => string): SimValue {
  return valueOf(node, ctx, 0, topLevelString);
}

function valueOf(node: TypeNode, ctx: ValueContext, depth: number, text: () => string): SimValue {
  const { name } = node;
  if (depth > MAX_DEPTH) return null;
  if (name === 'Literal') {
    const literals = node.args.flatMap((arg) => ('literal' in arg ? [arg.literal] : [literalOfName(arg.name)]));
    return literals.length > 0 ? pick(ctx.rand, literals) : text();
  }
  if (name === 'str' || name === 'Any' || name === 'object') return text();
  if (name === 'int') return 1 + Math.floor(ctx.rand() * 100);
  if (name === 'float') return Math.round((0.05 + ctx.rand() * 0.94) * 100) / 100;
  if (name === 'bool') return ctx.rand() < 0.5;
  if (NONE_NAMES.has(name)) return null;
  if (UNION_NAMES.has(name)) {
    const first = nodeArgs(node).find((arg) => !NONE_NAMES.has(arg.name));
    return first ? valueOf(first, ctx, depth + 1, text) : null;
  }
  if (LIST_NAMES.has(name) || name === 'tuple' || name === 'Tuple') return listOf(node, ctx, depth);
  if (DICT_NAMES.has(name)) {
    const [keyType, valueType] = nodeArgs(node);
    const out: Record<string, SimValue> = {};
    const count = 2 + Math.floor(ctx.rand() * 2);
    for (let i = 0; i < count; i += 1) {
      const key = keyType && keyType.name !== 'str' ? String(valueOf(keyType, ctx, depth + 1, ctx.phrase)) : KEY_WORDS[i]!;
      out[key] = valueType ? valueOf(valueType, ctx, depth + 1, ctx.phrase) : ctx.phrase();
    }
    return out;
  }
  if (depth === 0 && ctx.schema !== undefined) return fromSchema(ctx.schema, ctx, ctx.schema, 0);
  return text();
}

function listOf(node: TypeNode, ctx: ValueContext, depth: number): SimValue[] {
  const items = nodeArgs(node);
  const isTuple = node.name === 'tuple' || node.name === 'Tuple';
  const variadic = node.args.some((arg) => isNode(arg) && arg.name === '...');
  if (isTuple && !variadic && items.length > 0) return items.map((item) => valueOf(item, ctx, depth + 1, ctx.phrase));
  const itemType = items[0] ?? { name: 'str', args: [] };
  const count = 2 + Math.floor(ctx.rand() * 2);
  return Array.from({ length: count }, () => valueOf(itemType, ctx, depth + 1, ctx.phrase));
}

function literalOfName(name: string): Literal {
  if (name === 'True') return true;
  if (name === 'False') return false;
  if (NONE_NAMES.has(name)) return null;
  return name; // an enum member such as Color.RED
}

/** A value matching a (pydantic-generated) JSON schema; follows local `$ref`s. */
function fromSchema(schema: unknown, ctx: ValueContext, root: unknown, depth: number): SimValue {
  if (depth > MAX_DEPTH || schema === null || typeof schema !== 'object') return ctx.phrase();
  const s = schema as Record<string, unknown>;
  if (typeof s.$ref === 'string') {
    const target = s.$ref
      .replace(/^#\//, '')
      .split('/')
      .reduce<unknown>((at, key) => (at && typeof at === 'object' ? (at as Record<string, unknown>)[key] : undefined), root);
    return fromSchema(target, ctx, root, depth + 1);
  }
  if ('const' in s) return s.const as SimValue;
  if (Array.isArray(s.enum) && s.enum.length > 0) return pick(ctx.rand, s.enum as SimValue[]);
  const variants = (s.anyOf ?? s.oneOf ?? s.allOf) as unknown[] | undefined;
  if (Array.isArray(variants) && variants.length > 0) {
    const chosen = variants.find((v) => (v as Record<string, unknown> | null)?.type !== 'null') ?? variants[0];
    return fromSchema(chosen, ctx, root, depth + 1);
  }
  const type = Array.isArray(s.type) ? (s.type.find((t) => t !== 'null') as unknown) : s.type;
  switch (type) {
    case 'string':
      return ctx.phrase();
    case 'integer':
      return 1 + Math.floor(ctx.rand() * 100);
    case 'number':
      return Math.round((0.05 + ctx.rand() * 0.94) * 100) / 100;
    case 'boolean':
      return ctx.rand() < 0.5;
    case 'null':
      return null;
    case 'array': {
      const prefix = s.prefixItems;
      if (Array.isArray(prefix)) return prefix.map((item) => fromSchema(item, ctx, root, depth + 1));
      const count = Math.max(typeof s.minItems === 'number' ? s.minItems : 0, 2);
      return Array.from({ length: count }, () => fromSchema(s.items, ctx, root, depth + 1));
    }
    default: {
      const properties = s.properties;
      if (properties && typeof properties === 'object') {
        const out: Record<string, SimValue> = {};
        for (const [key, sub] of Object.entries(properties as Record<string, unknown>)) {
          out[key] = fromSchema(sub, ctx, root, depth + 1);
        }
        return out;
      }
      if (type === 'object') {
        const valueSchema = s.additionalProperties;
        return { [KEY_WORDS[0]!]: typeof valueSchema === 'object' ? fromSchema(valueSchema, ctx, root, depth + 1) : ctx.phrase() };
      }
      return ctx.phrase();
    }
  }
}
