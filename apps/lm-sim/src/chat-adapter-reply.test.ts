// Protects prompt detection and typed values: DSPy programs fail to parse replies otherwise.
import { describe, expect, it } from 'vitest';
import { generateValue, parseAnnotation } from './annotation.js';
import { dspyReply, parseDspyPrompt, parseOutputFields } from './chat-adapter-reply.js';
import { createPrng } from './prng.js';

const system = (outputs: string, structure: string): string => `Your input fields are:
1. \`text\` (str)
Your output fields are:
${outputs}
All interactions will be structured in the following way, with the appropriate values filled in.

[[ ## text ## ]]
{text}

${structure}

[[ ## completed ## ]]
In adhering to this structure, your objective is: 
        Classify the text.`;

describe('parseOutputFields', () => {
  it('reads names, annotations with brackets and parentheses, and multi-line descriptions', () => {
    const fields = parseOutputFields(
      system(
        [
          "1. `label` (Literal['a (x)', \"it's\"]): The label.",
          '    Type description of Label: one of two.',
          '2. `items` (list[dict[str, int]])',
          '3. `note` (Union[str, NoneType]): steps:',
          '1. not a field, wrong number',
        ].join('\n'),
        '',
      ),
    );
    expect(fields).toEqual([
      { name: 'label', type: "Literal['a (x)', \"it's\"]", description: 'The label.\nType description of Label: one of two.' },
      { name: 'items', type: 'list[dict[str, int]]', description: '' },
      { name: 'note', type: 'Union[str, NoneType]', description: 'steps:\n1. not a field, wrong number' },
    ]);
  });

  it('finds nothing in an ordinary system prompt', () => {
    expect(parseOutputFields('You are a helpful assistant.')).toEqual([]);
    expect(parseDspyPrompt([{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'hi' }])).toBeUndefined();
  });
});

describe('dspyReply', () => {
  const messages = (sys: string) => [
    { role: 'system', content: sys },
    { role: 'user', content: '[[ ## text ## ]]\nI love it\n\nRespond with the corresponding output fields, ...' },
  ];

  it('uses the choices DSPy prints for an Enum class', () => {
    const prompt = parseDspyPrompt(
      messages(system('1. `mood` (Mood)', '[[ ## mood ## ]]\n{mood}        # note: the value you produce must be one of: HAPPY; SAD')),
    );
    expect(prompt?.format).toBe('chat');
    const reply = dspyReply(prompt!, 'seed');
    expect(reply).toMatch(/^\[\[ ## mood ## \]\]\n(HAPPY|SAD)\n\n\[\[ ## completed ## \]\]$/);
  });

  it('builds a pydantic model from the JSON schema DSPy prints, following $refs', () => {
    const schema = JSON.stringify({
      type: 'object',
      properties: { name: { type: 'string' }, pet: { $ref: '#/$defs/Pet' } },
      $defs: { Pet: { type: 'object', properties: { kind: { enum: ['cat', 'dog'] }, age: { type: 'integer' } } } },
    });
    const prompt = parseDspyPrompt(
      messages(system('1. `owner` (Owner)', `[[ ## owner ## ]]\n{owner}        # note: the value you produce must adhere to the JSON schema: ${schema}`)),
    );
    const body = dspyReply(prompt!, 'seed').split('\n')[1] ?? '';
    const owner = JSON.parse(body) as { name: unknown; pet: { kind: unknown; age: unknown } };
    expect(typeof owner.name).toBe('string');
    expect(['cat', 'dog']).toContain(owner.pet.kind);
    expect(Number.isInteger(owner.pet.age)).toBe(true);
  });

  it('answers a JSONAdapter prompt (fields listed, no output headers) with a JSON object', () => {
    const sys = `Your input fields are:\n1. \`text\` (str)\nYour output fields are:\n1. \`label\` (Literal['pos', 'neg'])\n2. \`score\` (float)\nAll interactions will be structured in the following way, with the appropriate values filled in.\n\nInputs will have the following structure:\n\n[[ ## text ## ]]\n{text}\n\nOutputs will be a JSON object with the following fields.\n\n{\n  "label": "{label}",\n  "score": "{score}"\n}`;
    const prompt = parseDspyPrompt(messages(sys));
    expect(prompt?.format).toBe('json');
    const reply = JSON.parse(dspyReply(prompt!, 'seed')) as { label: unknown; score: unknown };
    expect(['pos', 'neg']).toContain(reply.label);
    expect(typeof reply.score).toBe('number');
  });

  it('is deterministic per seed', () => {
    const prompt = parseDspyPrompt(messages(system('1. `n` (int)\n2. `why` (str)', '[[ ## n ## ]]\n{n}\n\n[[ ## why ## ]]\n{why}')))!;
    expect(dspyReply(prompt, 'a')).toBe(dspyReply(prompt, 'a'));
    const replies = new Set(['a', 'b', 'c', 'd'].map((seed) => dspyReply(prompt, seed)));
    expect(replies.size).toBeGreaterThan(1);
  });
});

describe('annotations', () => {
  const ctx = { rand: createPrng(3), phrase: () => 'phrase' };
  const value = (annotation: string) => generateValue(parseAnnotation(annotation), ctx, () => 'sentence');

  it('generates values of the annotated type', () => {
    expect(value('str')).toBe('sentence');
    expect(Number.isInteger(value('int'))).toBe(true);
    expect(typeof value('float')).toBe('number');
    expect(typeof value('bool')).toBe('boolean');
    expect(value('list[int]')).toEqual(expect.arrayContaining([expect.any(Number)]));
    expect(value('tuple[int, str]')).toEqual([expect.any(Number), 'phrase']);
    expect(value('Optional[int]')).toEqual(expect.any(Number));
    expect(value('int | None')).toEqual(expect.any(Number));
    expect([true, false]).toContain(value('Literal[True, False]'));
    expect(value('Literal[3]')).toBe(3);
    expect(Object.values(value('dict[str, list[bool]]') as object).every(Array.isArray)).toBe(true);
  });

  it('treats an unreadable annotation as an opaque name', () => {
    expect(parseAnnotation("<class 'x'>")).toEqual({ name: "<class 'x'>", args: [] });
    expect(value("<class 'x'>")).toBe('sentence');
  });
});
