// A saved program's per-field prefix and description (DSPy's Signature.dump_state "fields":
// inputs then outputs, in signature order), laid over a signature the way Signature.load_state
// does: zipped, the shorter list winning. A description shows in the prompt unless it is
// DSPy's `${name}` placeholder.

import { ValidationError } from '../errors/index.js';
import type { Field, Signature } from './types.js';

export interface SavedField {
  prefix?: string;
  description?: string;
}

export function applySavedFields(sig: Signature, saved: readonly SavedField[] | undefined): Signature {
  if (!saved || saved.length === 0) return sig;
  let i = 0;
  const apply = (field: Field): Field => {
    const s = saved[i++];
    if (!s) return field;
    return {
      ...field,
      ...(s.description === undefined ? {} : { desc: s.description }),
      ...(s.prefix === undefined ? {} : { prefix: s.prefix }),
    };
  };
  const inputs = sig.inputs.map(apply);
  const outputs = sig.outputs.map(apply);
  return { ...sig, inputs, outputs };
}

/**
 * Checks that saved fields belong to this signature: as many, and each `${name}` placeholder
 * naming the field at its place (a saved program paired with the wrong signature would render
 * a prompt it was never tuned on). Throws invalid_request naming the first mismatch.
 */
export function checkSavedFields(sig: Signature, saved: readonly SavedField[]): void {
  const fields = [...sig.inputs, ...sig.outputs];
  if (saved.length !== fields.length) {
    throw new ValidationError(
      'invalid_request',
      `the saved program has ${saved.length} fields but the signature has ${fields.length} (${fields.map((f) => f.name).join(', ')})`,
    );
  }
  for (const [i, field] of fields.entries()) {
    const placeholder = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(saved[i]?.description ?? '')?.[1];
    if (placeholder !== undefined && placeholder !== field.name) {
      throw new ValidationError(
        'invalid_request',
        `field ${i + 1} of the saved program is "${placeholder}" but the signature has "${field.name}" there`,
      );
    }
  }
}
