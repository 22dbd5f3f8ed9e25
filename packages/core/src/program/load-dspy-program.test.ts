import { describe, expect, it } from 'vitest';
import { ChainOfThought } from './chain-of-thought.js';
import { readFileSync } from 'node:fs';
import { dspyModuleOf, loadDspyProgram } from './load-dspy-program.js';
import { parseSignature } from './parse-signature.js';
import { Predict } from './predict.js';
import { checkSavedFields } from './saved-fields.js';
import { RAG_INPUTS, RAG_MESSAGES, RAG_SIGNATURE } from '../../../../test/fixtures/dspy-rag-cot.expected.js';

// The shape of `dspy.Predict(...).save("program.json")` (Predict.dump_state + metadata).
const savedPredict = {
  self: {
    traces: [],
    train: [],
    demos: [
      { augmented: true, question: 'What is 1+1?', answer: '2' },
      { question: 'Capital of France?', answer: 'Paris' },
    ],
    signature: {
      instructions: 'Answer with a single word.',
      fields: [
        { prefix: 'Question:', description: '${question}' },
        { prefix: 'Answer:', description: '${answer}' },
      ],
    },
    lm: null,
  },
  metadata: { dependency_versions: { python: '3.11', dspy: '2.6.27', cloudpickle: '3.1' } },
};

function codeOf(json: unknown): string | undefined {
  try {
    loadDspyProgram(json);
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
}

describe('loadDspyProgram', () => {
  it('reads instructions, demos and field metadata of a saved Predict', () => {
    expect(loadDspyProgram(savedPredict)).toEqual({
      predictor: 'self',
      dspyVersion: '2.6.27',
      instructions: 'Answer with a single word.',
      demos: savedPredict.self.demos,
      fields: [
        { prefix: 'Question:', description: '${question}' },
        { prefix: 'Answer:', description: '${answer}' },
      ],
    });
  });

  it("reads a ChainOfThought's inner `predict` and feeds a module", () => {
    const state = loadDspyProgram({
      predict: {
        demos: [{ question: 'q1', reasoning: 'because', answer: 'a1' }],
        signature: { instructions: 'Think, then answer.', fields: [] },
        lm: { model: 'openai/gpt-4o-mini' },
      },
    });
    const cot = new ChainOfThought('question -> answer', { instructions: state.instructions, demos: state.demos });
    const messages = cot.messages({ question: 'q2' });
    expect(messages[0]?.content).toMatch(/objective is: \n {8}Think, then answer\.$/);
    expect(messages[2]?.content).toBe('[[ ## reasoning ## ]]\nbecause\n\n[[ ## answer ## ]]\na1\n\n[[ ## completed ## ]]\n');
  });

  it('accepts any single predictor name and the pre-2.5 flat instructions', () => {
    expect(loadDspyProgram({ 'qa.predict': { demos: [], signature: { instructions: 'x' } } }).instructions).toBe('x');
    expect(loadDspyProgram({ self: { signature_instructions: 'old', demos: [] } })).toEqual({
      predictor: 'self',
      instructions: 'old',
      demos: [],
      fields: [],
    });
  });

  it.each([
    ['not an object', 'program.json'],
    ['null', null],
    ['only metadata', { metadata: {} }],
    ['several predictors', { retrieve: savedPredict.self, answer: savedPredict.self }],
    ['a predictor that is not an object', { self: [] }],
    ['no instructions', { self: { demos: [], signature: { fields: [] } } }],
    ['demos that are not a list', { self: { demos: {}, signature: { instructions: 'x' } } }],
    ['a demo that is not an object', { self: { demos: ['x'], signature: { instructions: 'x' } } }],
    ['fields that are not a list', { self: { demos: [], signature: { instructions: 'x', fields: 'f' } } }],
  ])('rejects %s with invalid_request', (_label, json) => {
    expect(codeOf(json)).toBe('invalid_request');
  });
});

describe('a saved DSPy 3.x ChainOfThought program (test/fixtures/dspy-rag-cot.program.json)', () => {
  const json: unknown = JSON.parse(readFileSync(new URL('../../../../test/fixtures/dspy-rag-cot.program.json', import.meta.url), 'utf8'));

  it('is recognised as ChainOfThought and renders exactly the messages DSPy sends', () => {
    const state = loadDspyProgram(json);
    expect(state).toMatchObject({ predictor: 'respond.predict', dspyVersion: '3.0.3' });
    const signature = parseSignature(RAG_SIGNATURE);
    expect(dspyModuleOf(state, signature)).toBe('ChainOfThought');
    const cot = new ChainOfThought(signature, { instructions: state.instructions, demos: state.demos, fields: state.fields });
    checkSavedFields(cot.signature, state.fields);
    expect(cot.messages(RAG_INPUTS)).toEqual(RAG_MESSAGES);
  });

  it('refuses a signature or module that does not fit the saved fields', () => {
    const state = loadDspyProgram(json);
    expect(codeOfCall(() => dspyModuleOf(state, parseSignature('question -> answer')))).toBe('invalid_request');
    expect(codeOfCall(() => dspyModuleOf(state, parseSignature(RAG_SIGNATURE), 'Predict'))).toBe('invalid_request');
    // Same field count, another name where the saved placeholder says "question".
    const wrong = new ChainOfThought('context: list[str], query -> answer', { fields: state.fields });
    expect(codeOfCall(() => checkSavedFields(wrong.signature, state.fields))).toBe('invalid_request');
  });

  it('reads a bare Predict as Predict', () => {
    const state = loadDspyProgram(savedPredict);
    expect(dspyModuleOf(state, parseSignature('question -> answer'))).toBe('Predict');
    expect(new Predict('question -> answer', { fields: state.fields }).signature.outputs[0]).toMatchObject({ prefix: 'Answer:', desc: '${answer}' });
  });
});

function codeOfCall(run: () => unknown): string | undefined {
  try {
    run();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
}
