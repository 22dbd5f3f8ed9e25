// Cache keys of predictions: everything that changes the answer changes the key; nothing else does.
import { describe, expect, it } from 'vitest';
import { cacheKey, canonicalJson } from '../cache/index.js';
import { loadConfig } from '../config/index.js';
import type { PredictionJobData } from '../queue/index.js';
import { bypassReason, cacheRequestFor } from './cache-request.js';
import { preparePrediction } from './prepare.js';

const config = loadConfig(
  {},
  {
    routes: [
      { name: 'fast', model: 'sim-small', base_url: 'http://127.0.0.1:1/v1' },
      { name: 'big', model: 'sim-large', base_url: 'http://127.0.0.1:1/v1' },
    ],
    programs: {
      qa: { signature: 'question -> answer', version: '1' },
      qa2: { signature: 'question -> answer', version: '2' },
      shared: { signature: 'question -> answer', cache: { shared: true } },
      loose: { signature: 'question -> answer', cache: { normalize: { trim: true, collapse_whitespace: true, lowercase: true } } },
    },
  },
);
const gens = { all: 0, scope: 0, program: 0 };

function data(overrides: Partial<PredictionJobData> = {}): PredictionJobData {
  return {
    v: 1,
    tenant: 'acme',
    request_id: 'r1',
    program: null,
    program_version: null,
    module: 'Predict',
    signature: 'question -> answer',
    demos: [],
    inputs: { question: 'What is the capital of France?' },
    route: 'fast',
    model: 'sim-small',
    params: {},
    cache: 'default',
    priority: 'interactive',
    variant: null,
    created_at: 1,
    ...overrides,
  };
}

function requestOf(d: PredictionJobData) {
  const { route, messages, params } = preparePrediction(config, d);
  return cacheRequestFor(config, d, route, messages, params);
}

function key(d: PredictionJobData, g = gens): string {
  return cacheKey(requestOf(d), g);
}

describe('canonicalJson', () => {
  it('ignores key order at every depth and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: undefined } })).toBe(canonicalJson({ a: { d: [1, { x: 1, y: 2 }] }, b: 1 }));
  });
});

describe('cache keys', () => {
  it('are 64-hex SHA-256 and stable whatever the order of params and inputs', () => {
    const a = key(data({ params: { temperature: 0, max_tokens: 50, stop: ['x'] }, inputs: { question: 'q', context: 'c' }, signature: 'context, question -> answer' }));
    const b = key(data({ params: { stop: ['x'], max_tokens: 50, temperature: 0 }, inputs: { context: 'c', question: 'q' }, signature: 'context, question -> answer' }));
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(a).toBe(b);
    // Per-request bookkeeping does not change the answer, so not the key.
    expect(key(data({ request_id: 'other', created_at: 99, priority: 'batch', metadata: { a: 'b' } }))).toBe(key(data()));
  });

  it('change with every sampling parameter, the route, the inputs, instructions, demos and module', () => {
    const base = key(data());
    const variants: Array<Partial<PredictionJobData>> = [
      { params: { temperature: 0 } },
      { params: { max_tokens: 7 } },
      { params: { top_p: 0.5 } },
      { params: { stop: 'END' } },
      { params: { seed: 3 } },
      { params: { presence_penalty: 0.1 } },
      { params: { frequency_penalty: 0.1 } },
      { params: { response_format: { type: 'json_object' } } },
      { route: 'big', model: 'sim-large' },
      { inputs: { question: 'What is the capital of Spain?' } },
      { instructions: 'Answer tersely.' },
      { demos: [{ question: 'x', answer: 'y' }] },
      { module: 'ChainOfThought' },
    ];
    const keys = variants.map((v) => key(data(v)));
    for (const k of keys) expect(k).not.toBe(base);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('treat an unset max_tokens as the route default the LM is sent', () => {
    const route = config.routes[0]!;
    expect(key(data({ params: { max_tokens: route.default_max_tokens } }))).toBe(key(data()));
  });

  it('are tenant-scoped, unless the program shares its cache', () => {
    expect(key(data({ tenant: 'other' }))).not.toBe(key(data()));
    const shared = (tenant: string) => data({ tenant, program: 'shared', program_version: '1' });
    expect(key(shared('other'))).toBe(key(shared('acme')));
    expect(requestOf(shared('x')).scope).toBe('shared');
    expect(requestOf(data()).scope).toBe('tenant:acme');
  });

  it('change with the program version and with every generation counter', () => {
    const v1 = data({ program: 'qa', program_version: '1' });
    expect(key(data({ program: 'qa', program_version: '2' }))).not.toBe(key(v1));
    expect(key(v1, { all: 1, scope: 0, program: 0 })).not.toBe(key(v1));
    expect(key(v1, { all: 0, scope: 1, program: 0 })).not.toBe(key(v1));
    expect(key(v1, { all: 0, scope: 0, program: 1 })).not.toBe(key(v1));
  });

  it('normalise inputs per program (trim, collapse whitespace, lower-case), and only there', () => {
    const loose = (question: string) => data({ program: 'loose', program_version: '1', inputs: { question } });
    expect(key(loose('  What IS\n the   capital? '))).toBe(key(loose('what is the capital?')));
    const strict = (question: string) => data({ program: 'qa', program_version: '1', inputs: { question } });
    expect(key(strict('  What IS the capital? '))).not.toBe(key(strict('what is the capital?')));
  });
});

describe('bypassReason', () => {
  it('skips no-store, explicit temperature > 0 (configurable) and a disabled cache', () => {
    expect(bypassReason(data(), config.cache)).toBeUndefined();
    expect(bypassReason(data({ params: { temperature: 0 } }), config.cache)).toBeUndefined();
    expect(bypassReason(data({ cache: 'no-store' }), config.cache)).toBe('no-store');
    expect(bypassReason(data({ params: { temperature: 0.7 } }), config.cache)).toBe('temperature');
    expect(bypassReason(data({ params: { temperature: 0.7 } }), { ...config.cache, store_nonzero_temperature: true })).toBeUndefined();
    expect(bypassReason(data(), { ...config.cache, enabled: false })).toBe('disabled');
  });
});
