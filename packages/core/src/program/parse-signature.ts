// Parses DSPy signature strings: "context: list[str], question -> answer, confidence: float".
// Every rejection is an invalid_signature error that says what to change.

import { ValidationError } from '../errors/index.js';
import { parseFieldType } from './parse-field-type.js';
import type { Field, Signature } from './types.js';

// DSPy parses each side as a Python parameter list, so keywords cannot be field names; pydantic
// rejects a leading underscore. `completed` would collide with ChatAdapter's end marker.
const NAME = /^[A-Za-z][A-Za-z0-9_]*$/;
const PY_KEYWORDS = new Set(
  ('False None True and as assert async await break class continue def del elif else except finally for ' +
    'from global if import in is lambda nonlocal not or pass raise return try while with yield').split(' '),
);
const RESERVED = new Set(['completed']);
const CLOSERS: Record<string, string> = { '[': ']', '(': ')', '{': '}' };

/** DSPy's default instructions (signature.py `_default_instructions`). */
export function defaultInstructions(inputs: readonly Field[], outputs: readonly Field[]): string {
  const names = (fields: readonly Field[]) => fields.map((f) => `\`${f.name}\``).join(', ');
  return `Given the fields ${names(inputs)}, produce the fields ${names(outputs)}.`;
}

export function parseSignature(text: string, instructions?: string): Signature {
  const fail = (problem: string): never => {
    const shown = text.length > 200 ? `${text.slice(0, 200)}…` : text;
    throw new ValidationError('invalid_signature', `invalid signature "${shown}": ${problem}`);
  };
  if (typeof text !== 'string') return fail('a signature must be a string like "question -> answer"');

  const sides = splitTopLevel(text, '->', fail);
  if (sides.length === 1) fail('missing "->" between inputs and outputs, e.g. "question -> answer"');
  if (sides.length > 2) fail('use exactly one "->", e.g. "question -> answer"');
  const inputs = parseSide(sides[0] ?? '', 'input', fail);
  const outputs = parseSide(sides[1] ?? '', 'output', fail);

  const seen = new Set<string>();
  for (const field of [...inputs, ...outputs]) {
    if (seen.has(field.name)) fail(`field "${field.name}" appears more than once; field names must be unique`);
    seen.add(field.name);
  }
  return { inputs, outputs, instructions: instructions ?? defaultInstructions(inputs, outputs) };
}

function parseSide(text: string, side: 'input' | 'output', fail: (problem: string) => never): Field[] {
  if (text.trim() === '') fail(`no ${side} fields; name at least one on each side of "->"`);
  return splitTopLevel(text, ',', fail).map((part): Field => {
    if (part.trim() === '') fail(`an empty ${side} field; check for a stray ","`);
    const [rawName = '', typeText, ...extra] = splitTopLevel(part, ':', fail);
    const name = rawName.trim();
    if (!NAME.test(name)) {
      fail(`"${name}" is not a valid field name; use letters, digits and "_", starting with a letter`);
    }
    if (PY_KEYWORDS.has(name)) fail(`"${name}" is a Python keyword and cannot be a field name`);
    if (RESERVED.has(name)) fail(`"${name}" is reserved: ChatAdapter marks the end of a reply with it`);
    if (extra.length > 0) fail(`field "${name}" has more than one ":"`);
    if (typeText === undefined) return { name, type: { kind: 'str' }, annotation: 'str' };
    if (typeText.trim() === '') fail(`field "${name}" has a ":" but no type`);
    try {
      return { name, ...parseFieldType(typeText.trim(), `field "${name}"`) };
    } catch (err) {
      if (err instanceof ValidationError) return fail(err.message);
      throw err;
    }
  });
}

/**
 * Splits on `sep` outside brackets and quotes, so "Literal['a, b']" or "dict[str, int]" stay
 * whole. Unbalanced brackets and unterminated quotes are reported here, once.
 */
function splitTopLevel(text: string, sep: string, fail: (problem: string) => never): string[] {
  const parts: string[] = [];
  const open: string[] = [];
  let quote: string | undefined;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] ?? '';
    if (quote !== undefined) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (CLOSERS[c] !== undefined) {
      open.push(CLOSERS[c]);
    } else if (c === ']' || c === ')' || c === '}') {
      if (open.pop() !== c) fail(`unbalanced brackets: unexpected "${c}"`);
    } else if (open.length === 0 && text.startsWith(sep, i)) {
      parts.push(text.slice(start, i));
      start = i + sep.length;
      i = start - 1;
    }
  }
  if (quote !== undefined) fail(`a ${quote} quote is never closed`);
  if (open.length > 0) fail(`unbalanced brackets: missing "${open.at(-1)}"`);
  parts.push(text.slice(start));
  return parts;
}
