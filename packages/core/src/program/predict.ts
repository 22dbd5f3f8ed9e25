// dspy.Predict: a signature plus demos, which renders validated inputs into ChatAdapter
// messages and reads the LM's reply back into typed outputs. Pure: the LM call is elsewhere.

import { ValidationError } from '../errors/index.js';
import type { ChatMessage } from '../lm/index.js';
import { isPlainObject } from './check-value.js';
import { parseReply } from './parse-reply.js';
import { parseSignature } from './parse-signature.js';
import { renderChat } from './render-chat.js';
import type { Demo, Signature } from './types.js';
import { validateInputs } from './validate-inputs.js';

export interface PredictOptions {
  /** Replaces the signature's instructions (an optimized prompt). Default: the signature's own. */
  instructions?: string;
  /** Few-shot examples, each a record of field values. Default: none. */
  demos?: readonly Demo[];
}

export class Predict {
  readonly signature: Signature;
  readonly demos: readonly Demo[];

  constructor(signature: Signature | string, options: PredictOptions = {}) {
    const base = toSignature(signature);
    this.signature = options.instructions === undefined ? base : { ...base, instructions: options.instructions };
    this.demos = checkDemos(options.demos ?? []);
  }

  /** Validates `inputs` (ValidationError 'invalid_input') and renders the chat messages. */
  messages(inputs: unknown): ChatMessage[] {
    return renderChat(this.signature, validateInputs(this.signature, inputs), { demos: this.demos });
  }

  /** Reads the LM's reply; ParseError ('unparseable_reply') if an output is missing or malformed. */
  parse(text: string): Record<string, unknown> {
    return parseReply(this.signature, text);
  }
}

export function toSignature(signature: Signature | string): Signature {
  return typeof signature === 'string' ? parseSignature(signature) : signature;
}

function checkDemos(demos: readonly Demo[]): readonly Demo[] {
  if (!Array.isArray(demos) || !demos.every(isPlainObject)) {
    throw new ValidationError('invalid_request', 'demos must be a list of objects keyed by field name');
  }
  return demos;
}
