// Goldens from DSPy 3.3's own tests (tests/adapters/test_json_adapter.py, the
// test_json_adapter_format_exact_messages_* cases), for the signatures a string can express.
import { describe, expect, it } from 'vitest';
import { parseSignature } from './parse-signature.js';
import { renderJson } from './render-json.js';
import type { Signature } from './types.js';

const INTRO = 'All interactions will be structured in the following way, with the appropriate values filled in.\n\n';

describe('renderJson', () => {
  it('matches DSPy for a simple signature', () => {
    expect(renderJson(parseSignature('question -> answer'), { question: 'What is the capital of France?' })).toEqual([
      {
        role: 'system',
        content:
          'Your input fields are:\n1. `question` (str):\nYour output fields are:\n1. `answer` (str):\n' +
          INTRO +
          'Inputs will have the following structure:\n\n[[ ## question ## ]]\n{question}\n\n' +
          'Outputs will be a JSON object with the following fields.\n\n{\n  "answer": "{answer}"\n}\n' +
          'In adhering to this structure, your objective is: \n        Given the fields `question`, produce the fields `answer`.',
      },
      {
        role: 'user',
        content: '[[ ## question ## ]]\nWhat is the capital of France?\n\nRespond with a JSON object in the following order of fields: `answer`.',
      },
    ]);
  });

  it('matches DSPy with a demo and a typed output', () => {
    const messages = renderJson(parseSignature('question -> answer, confidence: float'), { question: 'Q2' }, {
      demos: [{ question: 'Q1', answer: 'A1', confidence: 0.9 }],
    });
    expect(messages).toEqual([
      {
        role: 'system',
        content:
          'Your input fields are:\n1. `question` (str):\nYour output fields are:\n1. `answer` (str): \n2. `confidence` (float):\n' +
          INTRO +
          'Inputs will have the following structure:\n\n[[ ## question ## ]]\n{question}\n\n' +
          'Outputs will be a JSON object with the following fields.\n\n' +
          '{\n  "answer": "{answer}",\n  "confidence": "{confidence}        # note: the value you produce must be a single float value"\n}\n' +
          'In adhering to this structure, your objective is: \n        Given the fields `question`, produce the fields `answer`, `confidence`.',
      },
      { role: 'user', content: '[[ ## question ## ]]\nQ1' },
      { role: 'assistant', content: '{\n  "answer": "A1",\n  "confidence": 0.9\n}' },
      {
        role: 'user',
        content:
          '[[ ## question ## ]]\nQ2\n\nRespond with a JSON object in the following order of fields: `answer`, then `confidence` (must be formatted as a valid Python float).',
      },
    ]);
  });

  it('matches DSPy with described and bool outputs', () => {
    const base = parseSignature('input1 -> output1, output2: bool');
    const sig: Signature = { ...base, outputs: [{ ...base.outputs[0]!, desc: 'String output field' }, base.outputs[1]!] };
    const [system, user] = renderJson(sig, { input1: 'Test input' });
    expect(system?.content).toBe(
      'Your input fields are:\n1. `input1` (str):\nYour output fields are:\n1. `output1` (str): String output field\n2. `output2` (bool):\n' +
        INTRO +
        'Inputs will have the following structure:\n\n[[ ## input1 ## ]]\n{input1}\n\n' +
        'Outputs will be a JSON object with the following fields.\n\n' +
        '{\n  "output1": "{output1}",\n  "output2": "{output2}        # note: the value you produce must be True or False"\n}\n' +
        'In adhering to this structure, your objective is: \n        Given the fields `input1`, produce the fields `output1`, `output2`.',
    );
    expect(user?.content).toBe(
      '[[ ## input1 ## ]]\nTest input\n\nRespond with a JSON object in the following order of fields: `output1`, then `output2` (must be formatted as a valid Python bool).',
    );
  });

  it('matches DSPy with int and mapping outputs (the schema note escaped inside the JSON)', () => {
    const [system, user] = renderJson(parseSignature('question -> count: int, metadata: dict[str, int]'), { question: 'Count things' });
    expect(system?.content).toContain(
      '{\n  "count": "{count}        # note: the value you produce must be a single int value",\n' +
        '  "metadata": "{metadata}        # note: the value you produce must adhere to the JSON schema: ' +
        '{\\"type\\": \\"object\\", \\"additionalProperties\\": {\\"type\\": \\"integer\\"}}"\n}\n',
    );
    expect(user?.content).toBe(
      '[[ ## question ## ]]\nCount things\n\nRespond with a JSON object in the following order of fields: `count` (must be ' +
        'formatted as a valid Python int), then `metadata` (must be formatted as a valid Python dict[str, int]).',
    );
  });

  it('matches DSPy with an incomplete demo and a Literal output', () => {
    const messages = renderJson(parseSignature('question, context -> answer, score: float'), { question: 'Q2', context: 'C2' }, {
      demos: [{ question: 'Q1', answer: 'A1' }],
    });
    expect(messages.slice(1)).toEqual([
      { role: 'user', content: 'This is an example of the task, though some input or output fields are not supplied.\n\n[[ ## question ## ]]\nQ1' },
      { role: 'assistant', content: '{\n  "answer": "A1",\n  "score": "Not supplied for this particular example. "\n}' },
      {
        role: 'user',
        content:
          '[[ ## question ## ]]\nQ2\n\n[[ ## context ## ]]\nC2\n\nRespond with a JSON object in the following order of fields: `answer`, then `score` (must be formatted as a valid Python float).',
      },
    ]);
    const literal = renderJson(parseSignature("text -> decision: Literal['accept', 'reject']"), { text: 'Looks good' });
    expect(literal[0]?.content).toContain(
      '  "decision": "{decision}        # note: the value you produce must exactly match (no extra characters) one of: accept; reject"\n}',
    );
  });
});
