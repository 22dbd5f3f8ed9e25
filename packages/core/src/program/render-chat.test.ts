// Goldens follow DSPy's ChatAdapter (dspy/adapters/chat_adapter.py, base.py, utils.py). Note the
// trailing space after "(type): " on every field line but the last of each list: DSPy strips only
// the ends of the joined list.
import { describe, expect, it } from 'vitest';
import { parseSignature } from './parse-signature.js';
import { formatSystemMessage, renderChat } from './render-chat.js';
import { renderJson } from './render-json.js';
import type { Signature } from './types.js';

describe('renderChat', () => {
  it('matches DSPy for "context: list[str], question: str -> answer: str, confidence: float"', () => {
    const sig = parseSignature('context: list[str], question: str -> answer: str, confidence: float');
    const messages = renderChat(sig, {
      context: ['Paris is the capital of France.', 'France is in Europe.'],
      question: 'What is the capital of France?',
    });
    expect(messages).toEqual([
      {
        role: 'system',
        content:
          'Your input fields are:\n' +
          '1. `context` (list[str]): \n' +
          '2. `question` (str):\n' +
          'Your output fields are:\n' +
          '1. `answer` (str): \n' +
          '2. `confidence` (float):\n' +
          'All interactions will be structured in the following way, with the appropriate values filled in.\n' +
          '\n' +
          '[[ ## context ## ]]\n' +
          '{context}\n' +
          '\n' +
          '[[ ## question ## ]]\n' +
          '{question}\n' +
          '\n' +
          '[[ ## answer ## ]]\n' +
          '{answer}\n' +
          '\n' +
          '[[ ## confidence ## ]]\n' +
          '{confidence}        # note: the value you produce must be a single float value\n' +
          '\n' +
          '[[ ## completed ## ]]\n' +
          'In adhering to this structure, your objective is: \n' +
          '        Given the fields `context`, `question`, produce the fields `answer`, `confidence`.',
      },
      {
        role: 'user',
        content:
          '[[ ## context ## ]]\n' +
          '["Paris is the capital of France.", "France is in Europe."]\n' +
          '\n' +
          '[[ ## question ## ]]\n' +
          'What is the capital of France?\n' +
          '\n' +
          'Respond with the corresponding output fields, starting with the field `[[ ## answer ## ]]`, ' +
          'then `[[ ## confidence ## ]]` (must be formatted as a valid Python float), ' +
          'and then ending with the marker for `[[ ## completed ## ]]`.',
      },
    ]);
  });

  it('matches the messages DSPy documents for "question -> answer" with one demo', () => {
    // docs/learn/programming/adapters.md, ChatAdapter().format(signature, demos, inputs)
    const messages = renderChat(
      parseSignature('question -> answer'),
      { question: 'What is 2+2?' },
      { demos: [{ question: 'What is 1+1?', answer: '2' }] },
    );
    expect(messages).toEqual([
      {
        role: 'system',
        content:
          'Your input fields are:\n1. `question` (str):\nYour output fields are:\n1. `answer` (str):\nAll interactions will be structured in the following way, with the appropriate values filled in.\n\n[[ ## question ## ]]\n{question}\n\n[[ ## answer ## ]]\n{answer}\n\n[[ ## completed ## ]]\nIn adhering to this structure, your objective is: \n        Given the fields `question`, produce the fields `answer`.',
      },
      { role: 'user', content: '[[ ## question ## ]]\nWhat is 1+1?' },
      { role: 'assistant', content: '[[ ## answer ## ]]\n2\n\n[[ ## completed ## ]]\n' },
      {
        role: 'user',
        content:
          '[[ ## question ## ]]\nWhat is 2+2?\n\nRespond with the corresponding output fields, starting with the field `[[ ## answer ## ]]`, and then ending with the marker for `[[ ## completed ## ]]`.',
      },
    ]);
  });

  it('writes Literal and JSON-schema notes and indents every instruction line (ReAct-style signature)', () => {
    const sig = parseSignature(
      "question, trajectory -> next_thought, next_tool_name: Literal['search', 'finish'], next_tool_args: dict[str, Any]",
      'Given the fields `question`, produce the fields `answer`.\n\nYou are an Agent.\nPick one tool.',
    );
    expect(formatSystemMessage(sig)).toBe(
      'Your input fields are:\n' +
        '1. `question` (str): \n' +
        '2. `trajectory` (str):\n' +
        'Your output fields are:\n' +
        '1. `next_thought` (str): \n' +
        "2. `next_tool_name` (Literal['search', 'finish']): \n" +
        '3. `next_tool_args` (dict[str, Any]):\n' +
        'All interactions will be structured in the following way, with the appropriate values filled in.\n\n' +
        '[[ ## question ## ]]\n{question}\n\n' +
        '[[ ## trajectory ## ]]\n{trajectory}\n\n' +
        '[[ ## next_thought ## ]]\n{next_thought}\n\n' +
        '[[ ## next_tool_name ## ]]\n{next_tool_name}        # note: the value you produce must exactly match (no extra characters) one of: search; finish\n\n' +
        '[[ ## next_tool_args ## ]]\n{next_tool_args}        # note: the value you produce must adhere to the JSON schema: {"type": "object", "additionalProperties": true}\n\n' +
        '[[ ## completed ## ]]\n' +
        'In adhering to this structure, your objective is: \n' +
        '        Given the fields `question`, produce the fields `answer`.\n' +
        '        \n' +
        '        You are an Agent.\n' +
        '        Pick one tool.',
    );
    const user = renderChat(sig, { question: 'q', trajectory: 't' }).at(-1)?.content;
    expect(user).toBe(
      '[[ ## question ## ]]\nq\n\n[[ ## trajectory ## ]]\nt\n\n' +
        'Respond with the corresponding output fields, starting with the field `[[ ## next_thought ## ]]`, ' +
        "then `[[ ## next_tool_name ## ]]` (must be formatted as a valid Python Literal['search', 'finish']), " +
        'then `[[ ## next_tool_args ## ]]` (must be formatted as a valid Python dict[str, Any]), ' +
        'and then ending with the marker for `[[ ## completed ## ]]`.',
    );
  });

  it('writes pydantic JSON schemas for container and Optional outputs', () => {
    const sig = parseSignature(
      "q -> a: list[int], b: dict[str, list[str]], c: Optional[float], d: list, e: list[Literal['x', 'y']], f: bool, g: int, h: Optional[str], i: dict[Literal['k'], int]",
    );
    const notes = formatSystemMessage(sig)
      .split('\n')
      .filter((line) => line.includes('# note:'))
      .map((line) => line.slice(line.indexOf('produce ') + 'produce '.length));
    expect(notes).toEqual([
      'must adhere to the JSON schema: {"type": "array", "items": {"type": "integer"}}',
      'must adhere to the JSON schema: {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}}',
      'must adhere to the JSON schema: {"anyOf": [{"type": "number"}, {"type": "null"}]}',
      'must adhere to the JSON schema: {"type": "array", "items": {}}',
      'must adhere to the JSON schema: {"type": "array", "items": {"type": "string", "enum": ["x", "y"]}}',
      'must be True or False',
      'must be a single int value',
      'must adhere to the JSON schema: {"anyOf": [{"type": "string"}, {"type": "null"}]}',
      'must adhere to the JSON schema: {"type": "object", "additionalProperties": {"type": "integer"}, "propertyNames": {"const": "k", "enum": ["k"]}}',
    ]);
  });

  it('never annotates inputs, whatever their type', () => {
    const system = formatSystemMessage(parseSignature('n: int, flags: list[bool] -> a'));
    expect(system).toContain('[[ ## n ## ]]\n{n}\n\n[[ ## flags ## ]]\n{flags}\n\n[[ ## a ## ]]');
  });

  it('formats values like DSPy format_field_value', () => {
    const sig = parseSignature('s: str, n: int, x: float, b: bool, l: list[int], d: dict[str, Any], o: Optional[int] -> a');
    const user = renderChat(sig, { s: 'plain', n: 3, x: 0.25, b: true, l: [1, 2], d: { k: [true, null], 'ü': 1.5 }, o: null })[1]
      ?.content;
    expect(user).toContain(
      '[[ ## s ## ]]\nplain\n\n[[ ## n ## ]]\n3\n\n[[ ## x ## ]]\n0.25\n\n[[ ## b ## ]]\nTrue\n\n' +
        '[[ ## l ## ]]\n[1, 2]\n\n[[ ## d ## ]]\n{"k": [true, null], "ü": 1.5}\n\n[[ ## o ## ]]\nNone\n\n',
    );
  });

  it('numbers the items of a list given to a str field, as DSPy does for passages', () => {
    const sig = parseSignature('passages, one, none -> a');
    const user = renderChat(sig, {
      passages: ['Page A | text', 'two\nlines', 'has «quotes»'],
      one: ['only'],
      none: [],
    })[1]?.content;
    expect(user).toContain(
      '[[ ## passages ## ]]\n[1] «Page A | text»\n[2] «««\n    two\n    lines\n»»»\n[3] «««\n    has «quotes»\n»»»\n\n' +
        '[[ ## one ## ]]\n«only»\n\n[[ ## none ## ]]\nN/A\n\n',
    );
  });

  it('omits inputs that are not given', () => {
    const sig = parseSignature('a, b: Optional[str] -> c');
    expect(renderChat(sig, { a: 'x' })[1]?.content).toMatch(/^\[\[ ## a ## \]\]\nx\n\nRespond with/);
  });

  it('puts incomplete demos first, flags them, and drops demos with no input or no output', () => {
    const sig = parseSignature('question, context -> answer, score: float');
    const messages = renderChat(sig, { question: 'q', context: 'c' }, {
      demos: [
        { question: 'q1', context: 'c1', answer: 'a1', score: 0.5 },
        { question: 'q2', answer: 'a2' },
        { question: 'only inputs', context: 'c3' },
        { answer: 'only outputs' },
        { question: 'q4', context: 'c4', answer: 'a4', score: null },
      ],
    });
    expect(messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user', 'assistant', 'user', 'assistant', 'user']);
    expect(messages[1]?.content).toBe(
      'This is an example of the task, though some input or output fields are not supplied.\n\n[[ ## question ## ]]\nq2',
    );
    expect(messages[2]?.content).toBe(
      '[[ ## answer ## ]]\na2\n\n[[ ## score ## ]]\nNot supplied for this particular example.\n\n[[ ## completed ## ]]\n',
    );
    // A null output makes a demo incomplete; it is still shown, as "None".
    expect(messages[4]?.content).toBe('[[ ## answer ## ]]\na4\n\n[[ ## score ## ]]\nNone\n\n[[ ## completed ## ]]\n');
    expect(messages[5]?.content).toBe('[[ ## question ## ]]\nq1\n\n[[ ## context ## ]]\nc1');
    expect(messages[6]?.content).toBe('[[ ## answer ## ]]\na1\n\n[[ ## score ## ]]\n0.5\n\n[[ ## completed ## ]]\n');
  });

  it('shows field descriptions unless they are the ${name} placeholder', () => {
    const sig: Signature = {
      inputs: [{ name: 'q', type: { kind: 'str' }, annotation: 'str', desc: 'the question' }],
      outputs: [
        { name: 'reasoning', type: { kind: 'str' }, annotation: 'str', desc: '${reasoning}' },
        { name: 'a', type: { kind: 'str' }, annotation: 'str', desc: 'short answer' },
      ],
      instructions: 'Answer.',
    };
    expect(formatSystemMessage(sig)).toMatch(
      /^Your input fields are:\n1\. `q` \(str\): the question\nYour output fields are:\n1\. `reasoning` \(str\): \n2\. `a` \(str\): short answer\n/,
    );
  });

  it('renders each signature its own system message, the same each time it is asked', () => {
    const plain = parseSignature('question -> answer');
    const instructed = parseSignature('question -> answer', 'Answer in one word.');
    const first = renderChat(plain, { question: 'a' })[0]!.content;
    expect(renderChat(instructed, { question: 'a' })[0]!.content).toContain('Answer in one word.');
    expect(renderChat(plain, { question: 'b' })[0]!.content).toBe(first);
    expect(first).not.toContain('Answer in one word.');
    expect(renderJson(plain, { question: 'a' })[0]!.content).not.toBe(first);
  });

  it('dedents instructions like textwrap.dedent', () => {
    const sig = parseSignature('q -> a', '\n    First line.\n      Indented.\n\n    Last.\n');
    expect(formatSystemMessage(sig)).toMatch(
      /your objective is: \n {8}\n {8}First line\.\n {10}Indented\.\n {8}\n {8}Last\.$/,
    );
  });
});
