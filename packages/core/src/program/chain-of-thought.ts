// dspy.ChainOfThought: Predict with a `reasoning` output prepended, so the model writes its
// reasoning before the answer. Instructions stay those of the original signature, as in DSPy
// (Signature.prepend keeps them), so default instructions do not mention `reasoning`.

import { ValidationError } from '../errors/index.js';
import { Predict, toSignature, type PredictOptions } from './predict.js';
import type { Field, Signature } from './types.js';

/** DSPy's rationale field. Its desc is the `${reasoning}` placeholder, so the prompt shows none. */
export const REASONING_FIELD: Readonly<Field> = Object.freeze<Field>({
  name: 'reasoning',
  type: { kind: 'str' },
  annotation: 'str',
  desc: '${reasoning}',
  prefix: "Reasoning: Let's think step by step in order to",
});

export class ChainOfThought extends Predict {
  constructor(signature: Signature | string, options: PredictOptions = {}) {
    super(withReasoning(toSignature(signature)), options);
  }
}

export function withReasoning(sig: Signature): Signature {
  if ([...sig.inputs, ...sig.outputs].some((f) => f.name === REASONING_FIELD.name)) {
    throw new ValidationError(
      'invalid_signature',
      'ChainOfThought adds a "reasoning" output itself; rename the signature\'s "reasoning" field',
    );
  }
  return { ...sig, outputs: [{ ...REASONING_FIELD }, ...sig.outputs] };
}
