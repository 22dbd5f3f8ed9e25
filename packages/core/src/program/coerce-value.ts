// Turns the text of one reply section into a typed value, like DSPy's parse_value: a str is
// kept as written, a Literal is matched tolerantly, anything else is read as JSON or a Python
// literal and then converted the way pydantic's lax mode does ("3" -> 3, "yes" -> true).

import { isPlainObject, keyFits, kindOf } from './check-value.js';
import { pyStr } from './python-format.js';
import { parseLiteralAt, parsePythonLiteral, type LiteralResult } from './python-literal.js';
import { pyStrip } from './python-text.js';
import type { FieldType, LiteralValue } from './types.js';

export type Coerced = { ok: true; value: unknown } | { ok: false; reason: string };

const TRUE_WORDS = new Set(['true', '1', 'yes', 'y', 'on', 't']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'n', 'off', 'f']);
const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const FENCED = /^```[^\n]*\n([\s\S]*?)\n?```$/;

export function parseFieldValue(type: FieldType, raw: string): Coerced {
  if (type.kind === 'str') return { ok: true, value: raw };
  if (type.kind === 'literal') return matchLiteral(type.values, raw, '');
  // pydantic validates Optional[str] from the text itself: no JSON reading.
  if (type.kind === 'optional' && type.inner.kind === 'str') return { ok: true, value: raw };
  const read = readLoose(raw, type);
  return coerceValue(type, read.ok ? read.value : raw);
}

export function coerceValue(type: FieldType, value: unknown, path = ''): Coerced {
  const at = path === '' ? '' : `${path}: `;
  const bad = (expected: string): Coerced => ({ ok: false, reason: `${at}expected ${expected}, got ${kindOf(value)}` });
  switch (type.kind) {
    case 'any':
      return { ok: true, value: value ?? null };
    case 'str':
      return typeof value === 'string' ? { ok: true, value } : bad('a string');
    case 'int': {
      const n = typeof value === 'string' && INTEGER.test(pyStrip(value)) ? Number(pyStrip(value)) : value;
      return typeof n === 'number' && Number.isInteger(n) ? { ok: true, value: n } : bad('an integer');
    }
    case 'float': {
      const n = typeof value === 'string' && DECIMAL.test(pyStrip(value)) ? Number(pyStrip(value)) : value;
      return typeof n === 'number' && Number.isFinite(n) ? { ok: true, value: n } : bad('a number');
    }
    case 'bool':
      return coerceBool(value) ?? bad('True or False');
    case 'literal':
      return matchLiteral(type.values, value, at);
    case 'optional':
      return value === null || value === undefined ? { ok: true, value: null } : coerceValue(type.inner, value, path);
    case 'list': {
      if (!Array.isArray(value)) return bad('a list');
      const items: unknown[] = [];
      for (const [i, item] of value.entries()) {
        const result = coerceValue(type.items, item, `${path}[${i}]`);
        if (!result.ok) return result;
        items.push(result.value);
      }
      return { ok: true, value: items };
    }
    case 'dict': {
      if (!isPlainObject(value)) return bad('a dict');
      const entries: [string, unknown][] = [];
      for (const [key, item] of Object.entries(value)) {
        if (!keyFits(type.keys, key)) return { ok: false, reason: `${at}key ${JSON.stringify(key)} does not fit the key type` };
        const result = coerceValue(type.values, item, `${path}[${JSON.stringify(key)}]`);
        if (!result.ok) return result;
        entries.push([key, result.value]);
      }
      return { ok: true, value: Object.fromEntries(entries) };
    }
  }
}

function coerceBool(value: unknown): Coerced | undefined {
  if (typeof value === 'boolean') return { ok: true, value };
  if (value === 0 || value === 1) return { ok: true, value: value === 1 };
  if (typeof value !== 'string') return undefined;
  const word = pyStrip(value).toLowerCase();
  if (TRUE_WORDS.has(word)) return { ok: true, value: true };
  if (FALSE_WORDS.has(word)) return { ok: true, value: false };
  return undefined;
}

/**
 * DSPy's Literal matching: exact, else after stripping whitespace, a `Literal[...]`/`str[...]`
 * wrapper and one pair of matching quotes. Numbers and booleans also match their Python text.
 */
function matchLiteral(values: LiteralValue[], value: unknown, at: string): Coerced {
  if (values.includes(value as LiteralValue)) return { ok: true, value };
  if (typeof value === 'string') {
    let v = pyStrip(value);
    if ((v.startsWith('Literal[') || v.startsWith('str[')) && v.endsWith(']')) v = v.slice(v.indexOf('[') + 1, -1);
    const first = v[0];
    if (v.length > 1 && (first === '"' || first === "'") && v.endsWith(first)) v = v.slice(1, -1);
    const match = values.find((c) => (typeof c === 'string' ? c === v : pyStr(c) === v || String(c) === v));
    if (match !== undefined) return { ok: true, value: match };
  }
  const shown = typeof value === 'string' ? JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value) : kindOf(value);
  return { ok: false, reason: `${at}expected one of: ${values.map(pyStr).join('; ')}, got ${shown}` };
}

/** JSON, else a Python literal, else the same inside a ``` fence, else the first [...] / {...}. */
function readLoose(raw: string, type: FieldType): LiteralResult {
  const text = pyStrip(raw);
  const direct = readJsonOrPython(text);
  if (direct.ok) return direct;
  const fenced = FENCED.exec(text)?.[1];
  if (fenced !== undefined) {
    const inner = readJsonOrPython(pyStrip(fenced));
    if (inner.ok) return inner;
  }
  const target = type.kind === 'optional' ? type.inner : type;
  const open = target.kind === 'list' ? '[' : target.kind === 'dict' ? '{' : undefined;
  const start = open === undefined ? -1 : text.indexOf(open);
  return start < 0 ? { ok: false } : parseLiteralAt(text, start);
}

function readJsonOrPython(text: string): LiteralResult {
  try {
    return { ok: true, value: JSON.parse(text) as unknown, end: text.length };
  } catch {
    return parsePythonLiteral(text);
  }
}
