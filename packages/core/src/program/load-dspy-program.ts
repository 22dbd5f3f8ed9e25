// Reads the state DSPy writes with `program.save("program.json")` for a single-predictor
// program: { "<predictor>": { "demos": [...], "signature": { "instructions", "fields" }, "lm" },
// "metadata": {...} }. The optimized instructions and demos are what an optimizer produced;
// pair them with the program's signature string. The "lm" entry is ignored: routing is ours.

import { ValidationError } from '../errors/index.js';
import { isPlainObject } from './check-value.js';
import { REASONING_FIELD } from './chain-of-thought.js';
import type { SavedField } from './saved-fields.js';
import type { Demo, Signature } from './types.js';

export interface DspyProgramState {
  /** The predictor's name in the file: "self" (a bare Predict), "predict" (ChainOfThought), "respond.predict", ... */
  predictor: string;
  instructions: string;
  demos: Demo[];
  /** Saved per-field prefix/description, inputs then outputs, in signature order. */
  fields: SavedField[];
  /** `metadata.dependency_versions.dspy`, when the file has it. */
  dspyVersion?: string;
}

// `self` is a bare Predict; `predict` is ChainOfThought's inner predictor.
const PREFERRED_KEYS = ['self', 'predict'];

export function loadDspyProgram(json: unknown): DspyProgramState {
  if (!isPlainObject(json)) invalid('expected a JSON object as written by DSPy program.save()');
  const predictors = Object.keys(json).filter((key) => key !== 'metadata');
  const key = PREFERRED_KEYS.find((k) => predictors.includes(k)) ?? (predictors.length === 1 ? predictors[0] : undefined);
  if (key === undefined) {
    invalid(
      predictors.length === 0
        ? 'no predictor state found'
        : `found ${predictors.length} predictors (${predictors.slice(0, 5).join(', ')}); only single-predictor programs are supported`,
    );
  }
  const state = json[key];
  if (!isPlainObject(state)) invalid(`"${key}" must be an object with "signature" and "demos"`);

  const signature = state.signature;
  // DSPy before 2.5 saved the instructions flat, as "signature_instructions".
  const instructions = isPlainObject(signature) ? signature.instructions : state.signature_instructions;
  if (typeof instructions !== 'string') invalid(`"${key}.signature.instructions" must be a string`);

  const demos = state.demos ?? [];
  if (!Array.isArray(demos) || !demos.every(isPlainObject)) invalid(`"${key}.demos" must be a list of objects`);

  const rawFields = isPlainObject(signature) ? (signature.fields ?? []) : [];
  if (!Array.isArray(rawFields) || !rawFields.every(isPlainObject)) {
    invalid(`"${key}.signature.fields" must be a list of objects`);
  }
  const fields = rawFields.map((f) => ({
    ...(typeof f.prefix === 'string' ? { prefix: f.prefix } : {}),
    ...(typeof f.description === 'string' ? { description: f.description } : {}),
  }));
  const versions = isPlainObject(json.metadata) ? json.metadata.dependency_versions : undefined;
  const dspy = isPlainObject(versions) && typeof versions.dspy === 'string' ? versions.dspy : undefined;
  return { predictor: key, instructions, demos, fields, ...(dspy === undefined ? {} : { dspyVersion: dspy }) };
}

/**
 * Which DSPy module saved this state for `signature`: a ChainOfThought's predictor has one more
 * field than the signature, DSPy's `reasoning` (placeholder `${reasoning}`), first of the
 * outputs. Throws invalid_request when the state fits neither (or not the `module` asked for).
 */
export function dspyModuleOf(state: DspyProgramState, signature: Signature, module?: 'Predict' | 'ChainOfThought'): 'Predict' | 'ChainOfThought' {
  const count = signature.inputs.length + signature.outputs.length;
  const atReasoning = state.fields[signature.inputs.length];
  const reasoning = atReasoning?.description === REASONING_FIELD.desc || atReasoning?.prefix?.startsWith('Reasoning:') === true;
  const found = state.fields.length === count + 1 && reasoning ? 'ChainOfThought' : state.fields.length === count ? 'Predict' : undefined;
  // A state saved without field metadata (pre-2.5) says nothing: the caller's word, or Predict.
  if (state.fields.length === 0) return module ?? 'Predict';
  if (found === undefined || (module !== undefined && module !== found)) {
    const expected = module === 'ChainOfThought' ? count + 1 : module === 'Predict' ? count : `${count} (Predict) or ${count + 1} (ChainOfThought)`;
    invalid(`"${state.predictor}" has ${state.fields.length} fields; this signature needs ${expected}`);
  }
  return found;
}

function invalid(problem: string): never {
  throw new ValidationError('invalid_request', `invalid DSPy program state: ${problem}`);
}
