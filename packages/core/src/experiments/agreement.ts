// How a shadow's outputs compare with the control's: per output field, exact (the same JSON
// value) and, for strings, after normalising text (Unicode NFKC, case, whitespace, surrounding
// punctuation), so "Paris." and " paris" agree.
import { canonicalJson } from '../cache/canonical-json.js';

export interface Agreement {
  /** Per output field of the control. */
  fields: Record<string, { exact: boolean; normalized: boolean }>;
  exact: boolean;
  normalized: boolean;
}

export function normalizeText(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^[\p{P}\s]+|[\p{P}\s]+$/gu, '');
}

export function compareOutputs(control: Record<string, unknown>, shadow: Record<string, unknown>): Agreement {
  const fields: Agreement['fields'] = {};
  for (const [name, value] of Object.entries(control)) {
    const other = shadow[name];
    const exact = Object.hasOwn(shadow, name) && canonicalJson(value) === canonicalJson(other);
    const normalized = exact || (typeof value === 'string' && typeof other === 'string' && normalizeText(value) === normalizeText(other));
    fields[name] = { exact, normalized };
  }
  const all = Object.values(fields);
  return { fields, exact: all.every((f) => f.exact), normalized: all.every((f) => f.normalized) };
}
