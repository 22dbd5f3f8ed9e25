// A value that fits a JSON schema, for tool-call arguments and `response_format: json_schema`:
// deterministic for a seed, covering the schema keywords models are usually given (type,
// properties/required, items, enum, const, anyOf/oneOf, minimum/minItems). Depth-bounded, so a
// recursive or hostile schema still gets an answer.
import { createPrng, pick } from './prng.js';

type Schema = Record<string, unknown>;
const MAX_DEPTH = 8;

const isSchema = (value: unknown): value is Schema => typeof value === 'object' && value !== null && !Array.isArray(value);

export function valueForSchema(schema: unknown, seed: number, words: readonly string[] = ['simulated']): unknown {
  const rand = createPrng(seed);
  const make = (s: unknown, depth: number): unknown => {
    if (!isSchema(s) || depth > MAX_DEPTH) return null;
    if ('const' in s) return s.const;
    if (Array.isArray(s.enum) && s.enum.length > 0) return pick(rand, s.enum);
    const variants = Array.isArray(s.anyOf) ? s.anyOf : Array.isArray(s.oneOf) ? s.oneOf : undefined;
    if (variants && variants.length > 0) return make(variants.find((v) => isSchema(v) && v.type !== 'null') ?? variants[0], depth + 1);
    const type = Array.isArray(s.type) ? (s.type.find((t) => t !== 'null') ?? s.type[0]) : s.type;
    switch (type) {
      case 'object': {
        const properties = isSchema(s.properties) ? s.properties : {};
        return Object.fromEntries(Object.entries(properties).map(([key, inner]) => [key, make(inner, depth + 1)]));
      }
      case 'array': {
        const count = Math.max(typeof s.minItems === 'number' ? s.minItems : 1, 1);
        return Array.from({ length: Math.min(count, 5) }, () => make(s.items, depth + 1));
      }
      case 'integer':
        return typeof s.minimum === 'number' ? Math.ceil(s.minimum) : 1 + Math.floor(rand() * 9);
      case 'number':
        return typeof s.minimum === 'number' ? s.minimum : Math.round(rand() * 100) / 100;
      case 'boolean':
        return rand() < 0.5;
      case 'null':
        return null;
      case 'string':
      default:
        return pick(rand, words);
    }
  };
  return make(schema, 0);
}
