// A program version from a file DSPy wrote with `program.save("x.json")` plus the signature it
// was built from (the file holds state only: instructions, demos, per-field prefixes and
// descriptions). The module is read from the file's shape; a file that does not fit the
// signature is refused with a message naming the mismatch.
import { createHash } from 'node:crypto';
import { ValidationError } from '../errors/index.js';
import {
  ChainOfThought,
  Predict,
  checkSavedFields,
  dspyModuleOf,
  loadDspyProgram,
  parseSignature,
  type AdapterName,
} from '../program/index.js';
import { canonicalJson } from '../cache/canonical-json.js';
import { MAX_PROGRAM_DEMOS, type StoredProgram } from './stored-program.js';

export interface DefineProgramOptions {
  signature: string;
  module?: 'Predict' | 'ChainOfThought' | undefined;
  adapter?: AdapterName | undefined;
  model?: string | undefined;
}

export function defineProgram(dspyJson: unknown, options: DefineProgramOptions, now: number): StoredProgram {
  const state = loadDspyProgram(dspyJson);
  const signature = parseSignature(options.signature);
  const module = dspyModuleOf(state, signature, options.module);
  if (state.demos.length > MAX_PROGRAM_DEMOS) {
    throw new ValidationError('invalid_request', `the program has ${state.demos.length} demos; at most ${MAX_PROGRAM_DEMOS} are served`);
  }
  const built = module === 'ChainOfThought' ? new ChainOfThought(signature, { fields: state.fields }) : new Predict(signature, { fields: state.fields });
  if (state.fields.length > 0) checkSavedFields(built.signature, state.fields);
  const body = {
    signature: options.signature,
    module,
    adapter: options.adapter ?? 'chat',
    instructions: state.instructions,
    demos: state.demos,
    ...(state.fields.length > 0 ? { fields: state.fields } : {}),
    ...(options.model === undefined ? {} : { model: options.model }),
  };
  return {
    ...body,
    source: 'upload',
    created_at: now,
    sha256: createHash('sha256').update(canonicalJson(body)).digest('hex'),
    ...(state.dspyVersion === undefined ? {} : { dspy_version: state.dspyVersion }),
    predictor: state.predictor,
  };
}
