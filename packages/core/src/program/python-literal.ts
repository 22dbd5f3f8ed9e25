// Reads Python literals, DSPy's fallback when a reply is not JSON (ast.literal_eval):
// True/False/None, single- or double-quoted strings, numbers, lists, tuples, dicts and sets.
// JSON is a subset, so `true`/`null` are read too. Total: bad or too deeply nested text
// gives { ok: false }, never a throw, because the text comes from an LM.

import { pyStr } from './python-format.js';

export type LiteralResult = { ok: true; value: unknown; end: number } | { ok: false };

const MAX_DEPTH = 64;
const NUMBER = /[+-]?(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d[\d_]*)?/y;
const WORD = /[A-Za-z_][A-Za-z0-9_]*/y;
const WORDS: Record<string, unknown> = { True: true, true: true, False: false, false: false, None: null, null: null };
const ESCAPES: Record<string, string> = {
  '\n': '', '\\': '\\', "'": "'", '"': '"', n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', v: '\v', a: '\x07',
};

/** The whole text as one literal (surrounding whitespace allowed). */
export function parsePythonLiteral(text: string): LiteralResult {
  const result = parseLiteralAt(text, 0);
  if (!result.ok) return result;
  return /^\s*$/.test(text.slice(result.end)) ? result : { ok: false };
}

/** The literal that starts at `start` (after whitespace); `end` is where it stops. */
export function parseLiteralAt(text: string, start: number): LiteralResult {
  const reader = new Reader(text, start);
  try {
    const value = reader.value(0);
    return { ok: true, value, end: reader.pos };
  } catch (err) {
    if (err instanceof Malformed) return { ok: false };
    throw err;
  }
}

class Malformed extends Error {}

class Reader {
  constructor(
    private readonly text: string,
    public pos: number,
  ) {}

  value(depth: number): unknown {
    if (depth > MAX_DEPTH) this.fail();
    this.skipSpace();
    const c = this.text[this.pos];
    if (c === '[') return this.sequence(']', depth).items;
    if (c === '(') return this.tuple(depth);
    if (c === '{') return this.braces(depth);
    if (c === '"' || c === "'") return this.string(c);
    if (c !== undefined && /[-+.\d]/.test(c)) return this.number();
    if (c !== undefined && /[A-Za-z_]/.test(c)) return this.word();
    return this.fail();
  }

  private sequence(close: string, depth: number): { items: unknown[]; sawComma: boolean } {
    this.pos++;
    const items: unknown[] = [];
    let sawComma = false;
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] === close) break;
      items.push(this.value(depth + 1));
      this.skipSpace();
      if (this.text[this.pos] === ',') {
        sawComma = true;
        this.pos++;
      } else if (this.text[this.pos] !== close) {
        this.fail();
      }
    }
    this.pos++;
    return { items, sawComma };
  }

  // "(x)" is x in parentheses; "(x,)" and "(x, y)" are tuples, read as lists.
  private tuple(depth: number): unknown {
    const { items, sawComma } = this.sequence(')', depth);
    return items.length === 1 && !sawComma ? items[0] : items;
  }

  private braces(depth: number): unknown {
    this.pos++;
    const entries: [string, unknown][] = [];
    const members: unknown[] = [];
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] === '}') break;
      const first = this.value(depth + 1);
      this.skipSpace();
      if (this.text[this.pos] === ':' && members.length === 0) {
        this.pos++;
        entries.push([this.key(first), this.value(depth + 1)]);
      } else if (entries.length === 0) {
        members.push(first); // a set literal
      } else {
        this.fail();
      }
      this.skipSpace();
      if (this.text[this.pos] === ',') this.pos++;
      else if (this.text[this.pos] !== '}') this.fail();
    }
    this.pos++;
    // fromEntries defines own properties, so a "__proto__" key cannot reach the prototype.
    return members.length > 0 ? members : Object.fromEntries(entries);
  }

  private key(value: unknown): string {
    if (typeof value === 'string') return value;
    if (typeof value === 'number' || typeof value === 'boolean' || value === null) return pyStr(value);
    return this.fail();
  }

  private string(quote: string): string {
    const triple = this.text.startsWith(quote.repeat(3), this.pos);
    const end = triple ? quote.repeat(3) : quote;
    this.pos += end.length;
    let out = '';
    for (;;) {
      const c = this.text[this.pos];
      if (c === undefined) this.fail();
      if (this.text.startsWith(end, this.pos)) {
        this.pos += end.length;
        return out;
      }
      if (c === '\\') out += this.escape();
      else {
        out += c;
        this.pos++;
      }
    }
  }

  private escape(): string {
    const c = this.text[this.pos + 1];
    this.pos += 2;
    if (c === undefined) return this.fail();
    const simple = ESCAPES[c];
    if (simple !== undefined) return simple;
    if (c === 'x') return this.codePoint(2);
    if (c === 'u') return this.codePoint(4);
    if (c === 'U') return this.codePoint(8);
    if (/[0-7]/.test(c)) {
      const octal = /[0-7]{1,3}/y;
      octal.lastIndex = this.pos - 1;
      const digits = octal.exec(this.text)?.[0] ?? c;
      this.pos += digits.length - 1;
      return String.fromCodePoint(parseInt(digits, 8));
    }
    return `\\${c}`; // Python keeps unknown escapes as written
  }

  private codePoint(length: number): string {
    const hex = this.text.slice(this.pos, this.pos + length);
    if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== length) this.fail();
    const code = parseInt(hex, 16);
    if (code > 0x10ffff) this.fail();
    this.pos += length;
    return String.fromCodePoint(code);
  }

  private number(): number {
    NUMBER.lastIndex = this.pos;
    const match = NUMBER.exec(this.text);
    if (!match) return this.fail();
    this.pos = NUMBER.lastIndex;
    const n = Number(match[0].replaceAll('_', ''));
    return Number.isFinite(n) ? n : this.fail();
  }

  private word(): unknown {
    WORD.lastIndex = this.pos;
    const word = WORD.exec(this.text)?.[0] ?? '';
    if (!Object.hasOwn(WORDS, word)) this.fail();
    this.pos += word.length;
    return WORDS[word];
  }

  private skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos] ?? '')) this.pos++;
  }

  private fail(): never {
    throw new Malformed();
  }
}
