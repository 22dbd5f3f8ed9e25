// Strict type checks for values a client sends (inputs): no conversions, a JSON value either
// fits the field type or the check says where and why it does not.

import { pyStr } from './python-format.js';
import type { FieldType } from './types.js';

/** Undefined when `value` fits `type`, else the reason (with the path inside the value). */
export function checkValue(type: FieldType, value: unknown, path = ''): string | undefined {
  const at = path === '' ? '' : `${path}: `;
  switch (type.kind) {
    case 'any':
      return value === undefined ? `${at}missing value` : undefined;
    case 'str':
      return typeof value === 'string' ? undefined : `${at}expected a string, got ${kindOf(value)}`;
    case 'int':
      return Number.isInteger(value) ? undefined : `${at}expected an integer, got ${kindOf(value)}`;
    case 'float':
      return typeof value === 'number' && Number.isFinite(value) ? undefined : `${at}expected a number, got ${kindOf(value)}`;
    case 'bool':
      return typeof value === 'boolean' ? undefined : `${at}expected true or false, got ${kindOf(value)}`;
    case 'literal':
      return type.values.includes(value as never)
        ? undefined
        : `${at}expected one of ${type.values.map((v) => JSON.stringify(v)).join(', ')}, got ${kindOf(value)}`;
    case 'optional':
      return value === null ? undefined : checkValue(type.inner, value, path);
    case 'list':
      if (!Array.isArray(value)) return `${at}expected a list, got ${kindOf(value)}`;
      for (const [i, item] of value.entries()) {
        const problem = checkValue(type.items, item, `${path}[${i}]`);
        if (problem !== undefined) return problem;
      }
      return undefined;
    case 'dict':
      if (!isPlainObject(value)) return `${at}expected an object, got ${kindOf(value)}`;
      for (const [key, item] of Object.entries(value)) {
        if (!keyFits(type.keys, key)) return `${at}key ${JSON.stringify(key)} is not a valid ${keyName(type.keys)}`;
        const problem = checkValue(type.values, item, `${path}[${JSON.stringify(key)}]`);
        if (problem !== undefined) return problem;
      }
      return undefined;
  }
}

/** Whether a JSON object key (always a string) can stand for a dict key of this type. */
export function keyFits(type: FieldType, key: string): boolean {
  switch (type.kind) {
    case 'str':
    case 'any':
      return true;
    case 'int':
      return /^[+-]?\d+$/.test(key);
    case 'float':
      return key.trim() !== '' && Number.isFinite(Number(key));
    case 'bool':
      return /^(true|false)$/i.test(key);
    case 'literal':
      return type.values.some((v) => (typeof v === 'string' ? v === key : pyStr(v) === key || String(v) === key));
    default:
      return false;
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

export function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'number') return Number.isInteger(value) ? `the integer ${value}` : `the number ${value}`;
  if (typeof value === 'boolean') return `${value}`;
  if (typeof value === 'string') return 'a string';
  if (typeof value === 'object') return 'an object';
  return typeof value;
}

function keyName(type: FieldType): string {
  return type.kind === 'literal' ? `key (one of ${type.values.map(pyStr).join(', ')})` : `${type.kind} key`;
}
