import { describe, expect, it } from 'vitest';
import { errorsPath } from './batch-commands.js';
import { parseInputs } from './predict-command.js';

describe('command line inputs', () => {
  it('reads name=text as a string and name:=json as JSON', () => {
    expect(parseInputs(['question=What is 1+1? a=b', 'count:=3', 'context:=["a","b"]', 'flag:=true'])).toEqual({
      question: 'What is 1+1? a=b',
      count: 3,
      context: ['a', 'b'],
      flag: true,
    });
    expect(parseInputs(['empty='])).toEqual({ empty: '' });
  });

  it('refuses what is neither, and bad JSON', () => {
    expect(() => parseInputs(['question'])).toThrow(/name=text/);
    expect(() => parseInputs(['n:=[1,'])).toThrow(/JSON/);
  });

  it('puts error lines beside the output', () => {
    expect(errorsPath('out.jsonl')).toBe('out.errors.jsonl');
    expect(errorsPath('results')).toBe('results.errors.jsonl');
  });
});
