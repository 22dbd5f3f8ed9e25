// dspy.Predict: a signature plus demos, which renders validated inputs into an adapter's
// messages (ChatAdapter by default, or JSONAdapter) and reads the LM's reply back into typed
// outputs. Pure: the LM call is elsewhere.

import { ValidationError } from '../errors/index.js';
import type { ChatMessage } from '../lm/index.js';
import { isPlainObject } from './check-value.js';
import { parseJsonReply } from './parse-json-reply.js';
import { parseReply } from './parse-reply.js';
import { parseSignature } from './parse-signature.js';
import { renderChat } from './render-chat.js';
import { renderJson } from './render-json.js';
import { applySavedFields, type SavedField } from './saved-fields.js';
import type { Demo, Signature } from './types.js';
import { validateInputs } from './validate-inputs.js';

export const ADAPTERS = ['chat', 'json'] as const;
export type AdapterName = (typeof ADAPTERS)[number];

export interface PredictOptions {
  /** Replaces the signature's instructions (an optimized prompt). Default: the signature's own. */
  instructions?: string;
  /** Few-shot examples, each a record of field values. Default: none. */
  demos?: readonly Demo[];
  /** DSPy's adapter: "chat" (ChatAdapter, which falls back to JSON) or "json". Default "chat". */
  adapter?: AdapterName;
  /** A saved program's field prefixes and descriptions, inputs then outputs. Default: none. */
  fields?: readonly SavedField[];
}

const RENDER = { chat: renderChat, json: renderJson } as const;
const PARSE = { chat: parseReply, json: parseJsonReply } as const;

export class Predict {
  readonly signature: Signature;
  readonly demos: readonly Demo[];
  readonly adapter: AdapterName;

  constructor(signature: Signature | string, options: PredictOptions = {}) {
    const base = applySavedFields(toSignature(signature), options.fields);
    this.signature = options.instructions === undefined ? base : { ...base, instructions: options.instructions };
    this.demos = checkDemos(options.demos ?? []);
    this.adapter = options.adapter ?? 'chat';
  }

  /** Validates `inputs` (ValidationError 'invalid_input') and renders the adapter's messages. */
  messages(inputs: unknown, adapter: AdapterName = this.adapter): ChatMessage[] {
    return RENDER[adapter](this.signature, validateInputs(this.signature, inputs), { demos: this.demos });
  }

  /** Reads the LM's reply; ParseError ('unparseable_reply') if an output is missing or malformed. */
  parse(text: string, adapter: AdapterName = this.adapter): Record<string, unknown> {
    return PARSE[adapter](this.signature, text);
  }

  /** DSPy's ChatAdapter retries a reply it cannot parse with JSONAdapter (a second LM call). */
  get jsonFallback(): boolean {
    return this.adapter === 'chat';
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
