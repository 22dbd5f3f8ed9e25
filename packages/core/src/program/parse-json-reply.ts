// DSPy's JSONAdapter.parse: the reply is read as JSON (repaired first, as DSPy does with
// json_repair), else the first balanced {...} in it; each output field is then converted to its
// type as DSPy's parse_value does. Throws a ParseError (unparseable_reply) naming what is wrong.

import { jsonrepair } from 'jsonrepair';
import { ParseError } from '../errors/index.js';
import { isPlainObject } from './check-value.js';
import { coerceValue, parseFieldValue, type Coerced } from './coerce-value.js';
import { MAX_JSON_DEPTH, nestsDeeperThan } from './json-depth.js';
import { pyStr } from './python-format.js';
import type { Field, Signature } from './types.js';

export function parseJsonReply(sig: Signature, text: string): Record<string, unknown> {
  const reply = typeof text === 'string' ? text : '';
  let fields = repairedJson(reply);
  if (!isPlainObject(fields)) {
    const object = firstBalancedObject(reply);
    if (object !== undefined) fields = repairedJson(object);
  }
  if (!isPlainObject(fields)) throw new ParseError('the reply is not a JSON object with the output fields', { details: { field: null } });
  const values: [string, unknown][] = [];
  for (const field of sig.outputs) {
    if (!Object.hasOwn(fields, field.name)) {
      // DSPy's apply_output_field_defaults: a missing Optional output is None.
      if (field.type.kind === 'optional') {
        values.push([field.name, null]);
        continue;
      }
      throw new ParseError(`the reply's JSON object has no "${field.name}" output field`, { details: { field: field.name } });
    }
    const parsed = parseJsonValue(field, fields[field.name]);
    if (!parsed.ok) {
      throw new ParseError(`output field "${field.name}" is not a valid ${field.annotation}: ${parsed.reason}`, { details: { field: field.name } });
    }
    if (nestsDeeperThan(parsed.value)) {
      throw new ParseError(`output field "${field.name}" nests deeper than ${MAX_JSON_DEPTH} levels`, { details: { field: field.name } });
    }
    values.push([field.name, parsed.value]);
  }
  return Object.fromEntries(values);
}

/** parse_value: a str field takes str(value); a string is read like a ChatAdapter section; anything else is validated as is. */
function parseJsonValue(field: Field, value: unknown): Coerced {
  if (field.type.kind === 'str') return { ok: true, value: pyStr(value) };
  if (typeof value === 'string') return parseFieldValue(field.type, value);
  return coerceValue(field.type, value);
}

function repairedJson(text: string): unknown {
  try {
    return JSON.parse(jsonrepair(text)) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * The first `{...}` whose braces balance (DSPy's recursive regex `\{(?:[^{}]|(?R))*\}`): the
 * earliest "{" that a later "}" closes. One pass with a stack, so a reply full of "{" stays linear.
 */
export function firstBalancedObject(text: string): string | undefined {
  const open: number[] = [];
  let best: [number, number] | undefined;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '{') open.push(i);
    else if (text[i] === '}') {
      const start = open.pop();
      if (start !== undefined && (best === undefined || start < best[0])) best = [start, i];
    }
  }
  return best && text.slice(best[0], best[1] + 1);
}
