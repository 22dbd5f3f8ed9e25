// buildModule reuses a parsed module only where nothing but its definition could differ.
import { describe, expect, it } from 'vitest';
import { buildModule } from './prepare.js';

const spec = { module: 'Predict' as const, signature: 'question -> answer', demos: [] };

describe('buildModule', () => {
  it('parses a plain signature once, and keeps modules with other instructions, adapters or demos apart', () => {
    const first = buildModule(spec);
    expect(buildModule({ ...spec })).toBe(first);
    expect(buildModule({ ...spec, instructions: 'Answer briefly.' })).not.toBe(first);
    expect(buildModule({ ...spec, instructions: 'Answer briefly.' }).signature.instructions).toBe('Answer briefly.');
    expect(buildModule({ ...spec, adapter: 'json' }).adapter).toBe('json');
    expect(buildModule({ ...spec, module: 'ChainOfThought' })).not.toBe(first);
    const demos = [{ question: 'q', answer: 'a' }];
    expect(buildModule({ ...spec, demos }).demos).toEqual(demos);
    expect(buildModule({ ...spec, demos })).not.toBe(buildModule({ ...spec, demos }));
  });
});
