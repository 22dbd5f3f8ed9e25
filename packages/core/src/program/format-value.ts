// How a field's value is written into a prompt (DSPy utils.format_field_value): lists and
// dicts as JSON, other values as Python's str(). A list given to a plain `str` field becomes
// a numbered list of «blobs», which is how DSPy passes retrieved passages.

import { pyJsonDumps, pyStr } from './python-format.js';
import type { Field } from './types.js';

export function formatFieldValue(field: Field, value: unknown): string {
  if (Array.isArray(value) && field.type.kind === 'str') return formatList(value);
  if (typeof value === 'object' && value !== null && !(value instanceof Date)) return pyJsonDumps(value);
  return pyStr(value);
}

function formatList(items: unknown[]): string {
  if (items.length === 0) return 'N/A';
  if (items.length === 1) return formatBlob(pyStr(items[0]));
  return items.map((item, i) => `[${i + 1}] ${formatBlob(pyStr(item))}`).join('\n');
}

function formatBlob(blob: string): string {
  if (!blob.includes('\n') && !blob.includes('«') && !blob.includes('»')) return `«${blob}»`;
  return `«««\n    ${blob.replaceAll('\n', '\n    ')}\n»»»`;
}
