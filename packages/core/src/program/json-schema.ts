// The JSON schema pydantic generates for a field type (TypeAdapter(T).json_schema()), with
// "type" moved to the front as DSPy does. ChatAdapter shows it to the LM for list, dict and
// Optional outputs, so the key order and shapes follow pydantic exactly.

import type { FieldType, LiteralValue } from './types.js';

export type JsonSchema = { [key: string]: unknown };

export function jsonSchemaOf(type: FieldType): JsonSchema {
  return moveTypeToFront(schemaOf(type)) as JsonSchema;
}

function schemaOf(type: FieldType): JsonSchema {
  switch (type.kind) {
    case 'str':
      return { type: 'string' };
    case 'int':
      return { type: 'integer' };
    case 'float':
      return { type: 'number' };
    case 'bool':
      return { type: 'boolean' };
    case 'any':
      return {};
    case 'list':
      return { type: 'array', items: schemaOf(type.items) };
    case 'dict':
      return dictSchema(type.keys, type.values);
    case 'literal':
      return literalSchema(type.values);
    case 'optional':
      return { anyOf: [schemaOf(type.inner), { type: 'null' }] };
  }
}

function dictSchema(keys: FieldType, values: FieldType): JsonSchema {
  const schema: JsonSchema = { type: 'object' };
  const valueSchema = schemaOf(values);
  // pydantic: an unconstrained value schema becomes `additionalProperties: true`.
  schema.additionalProperties = Object.keys(valueSchema).length > 0 ? valueSchema : true;
  const { type: keyType, ...keyConstraints } = schemaOf(keys);
  if (keyType === 'string' && Object.keys(keyConstraints).length > 0) schema.propertyNames = keyConstraints;
  return schema;
}

function literalSchema(values: LiteralValue[]): JsonSchema {
  const schema: JsonSchema = { enum: values };
  if (values.length === 1) schema.const = values[0];
  const kinds = new Set(values.map((v) => (typeof v === 'number' ? (Number.isInteger(v) ? 'integer' : 'number') : typeof v)));
  const only = kinds.size === 1 ? [...kinds][0] : undefined;
  if (only !== undefined) schema.type = only;
  return schema;
}

/** DSPy's move_type_to_front: keys sorted, "type" first, recursively. */
function moveTypeToFront(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(moveTypeToFront);
  if (typeof value !== 'object' || value === null) return value;
  const keys = Object.keys(value).sort((a, b) => {
    if (a === 'type' || b === 'type') return a === 'type' ? (b === 'type' ? 0 : -1) : 1;
    return a < b ? -1 : a > b ? 1 : 0;
  });
  return Object.fromEntries(keys.map((k) => [k, moveTypeToFront((value as Record<string, unknown>)[k])]));
}
