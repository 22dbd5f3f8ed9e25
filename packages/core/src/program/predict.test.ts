import { describe, expect, it } from 'vitest';
import { ParseError, ValidationError } from '../errors/index.js';
import { ChainOfThought, REASONING_FIELD } from './chain-of-thought.js';
import { parseSignature } from './parse-signature.js';
import { Predict } from './predict.js';

describe('Predict', () => {
  it('validates, then renders system, demos and the request', () => {
    const predict = new Predict('question -> answer: int', { demos: [{ question: '1+1?', answer: 2 }] });
    const messages = predict.messages({ question: '2+2?' });
    expect(messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(messages[2]?.content).toBe('[[ ## answer ## ]]\n2\n\n[[ ## completed ## ]]\n');
    expect(messages[3]?.content).toContain('`[[ ## answer ## ]]` (must be formatted as a valid Python int)');
  });

  it('rejects bad inputs before rendering', () => {
    const predict = new Predict('question -> answer');
    expect(() => predict.messages({ query: 'x' })).toThrow(ValidationError);
    expect(() => predict.messages({})).toThrow(expect.objectContaining({ code: 'invalid_input', details: { field: 'question' } }));
  });

  it('replaces instructions when given', () => {
    const predict = new Predict('question -> answer', { instructions: 'Answer in French.' });
    expect(predict.signature.instructions).toBe('Answer in French.');
    expect(predict.messages({ question: 'q' })[0]?.content).toMatch(/objective is: \n {8}Answer in French\.$/);
  });

  it('accepts a parsed Signature', () => {
    const sig = parseSignature('a -> b');
    expect(new Predict(sig).signature).toBe(sig);
  });

  it('parses replies into typed outputs and throws ParseError otherwise', () => {
    const predict = new Predict('question -> answer: float');
    expect(predict.parse('[[ ## answer ## ]]\n4.0\n\n[[ ## completed ## ]]')).toEqual({ answer: 4 });
    expect(() => predict.parse('four')).toThrow(ParseError);
  });

  it('rejects a bad signature or bad demos', () => {
    expect(() => new Predict('question')).toThrow(expect.objectContaining({ code: 'invalid_signature' }));
    expect(() => new Predict('q -> a', { demos: ['x'] as never })).toThrow(expect.objectContaining({ code: 'invalid_request' }));
  });
});

describe('ChainOfThought', () => {
  it('prepends a str `reasoning` output with DSPy desc and prefix', () => {
    const cot = new ChainOfThought('question -> answer');
    expect(cot.signature.outputs.map((f) => f.name)).toEqual(['reasoning', 'answer']);
    expect(cot.signature.outputs[0]).toEqual({
      name: 'reasoning',
      type: { kind: 'str' },
      annotation: 'str',
      desc: '${reasoning}',
      prefix: "Reasoning: Let's think step by step in order to",
    });
    expect(REASONING_FIELD.name).toBe('reasoning');
  });

  it('renders reasoning first, with no description, and keeps the original default instructions', () => {
    const system = new ChainOfThought('question -> answer').messages({ question: 'q' })[0]?.content;
    expect(system).toBe(
      'Your input fields are:\n1. `question` (str):\nYour output fields are:\n1. `reasoning` (str): \n2. `answer` (str):\n' +
        'All interactions will be structured in the following way, with the appropriate values filled in.\n\n' +
        '[[ ## question ## ]]\n{question}\n\n[[ ## reasoning ## ]]\n{reasoning}\n\n[[ ## answer ## ]]\n{answer}\n\n' +
        '[[ ## completed ## ]]\nIn adhering to this structure, your objective is: \n' +
        '        Given the fields `question`, produce the fields `answer`.',
    );
  });

  it('asks for reasoning first in the user message', () => {
    const user = new ChainOfThought('question -> answer: bool').messages({ question: 'q' }).at(-1)?.content;
    expect(user).toContain(
      'starting with the field `[[ ## reasoning ## ]]`, then `[[ ## answer ## ]]` (must be formatted as a valid Python bool),',
    );
  });

  it('parses reasoning with the other outputs, and requires it', () => {
    const cot = new ChainOfThought('question -> answer: int');
    expect(cot.parse('[[ ## reasoning ## ]]\n2 plus 2.\n\n[[ ## answer ## ]]\n4\n\n[[ ## completed ## ]]')).toEqual({
      reasoning: '2 plus 2.',
      answer: 4,
    });
    expect(() => cot.parse('[[ ## answer ## ]]\n4')).toThrow(expect.objectContaining({ code: 'unparseable_reply', details: { field: 'reasoning' } }));
  });

  it('rejects a signature that already has `reasoning`', () => {
    expect(() => new ChainOfThought('question -> reasoning, answer')).toThrow(expect.objectContaining({ code: 'invalid_signature' }));
  });

  it('does not alter the signature it was given', () => {
    const sig = parseSignature('q -> a');
    new ChainOfThought(sig);
    expect(sig.outputs.map((f) => f.name)).toEqual(['a']);
  });
});
