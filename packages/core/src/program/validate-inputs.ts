// Checks a request's inputs against the signature before anything is rendered or sent, so a
// client learns which field is wrong instead of paying for an LM call that cannot work.

import { ValidationError } from '../errors/index.js';
import { checkValue, isPlainObject, kindOf } from './check-value.js';
import type { Signature } from './types.js';

export function validateInputs(sig: Signature, inputs: unknown): Record<string, unknown> {
  const expected = sig.inputs.map((f) => `"${f.name}" (${f.annotation})`).join(', ');
  if (!isPlainObject(inputs)) {
    throw new ValidationError('invalid_input', `inputs must be an object with the fields ${expected}; got ${kindOf(inputs)}`, {
      details: { field: null },
    });
  }
  const known = new Set(sig.inputs.map((f) => f.name));
  for (const key of Object.keys(inputs)) {
    if (!known.has(key)) {
      throw new ValidationError('invalid_input', `unknown input field "${key}"; this signature takes ${expected}`, {
        details: { field: key },
      });
    }
  }
  const valid: [string, unknown][] = [];
  for (const field of sig.inputs) {
    const value = Object.hasOwn(inputs, field.name) ? inputs[field.name] : undefined;
    if (value === undefined) {
      // Optional[T] inputs may be left out; DSPy then omits them from the prompt.
      if (field.type.kind === 'optional') continue;
      throw new ValidationError('invalid_input', `missing input field "${field.name}" (${field.annotation})`, {
        details: { field: field.name },
      });
    }
    const problem = checkValue(field.type, value);
    if (problem !== undefined) {
      throw new ValidationError('invalid_input', `input field "${field.name}" must be ${field.annotation}: ${problem}`, {
        details: { field: field.name },
      });
    }
    valid.push([field.name, value]);
  }
  return Object.fromEntries(valid);
}
