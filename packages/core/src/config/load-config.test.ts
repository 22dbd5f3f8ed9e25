import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors/index.js';
import { SIM_MODEL, loadConfig } from './load-config.js';
import { findRoute } from './routes.js';

function configFile(content: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'predictq-config-'));
  const path = join(dir, 'config.json');
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

function failure(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('defaults to one route pointing at the simulator', () => {
    const config = loadConfig({});
    expect(config.routes).toEqual([
      expect.objectContaining({ name: 'default', model: SIM_MODEL, base_url: 'http://127.0.0.1:3100/v1' }),
    ]);
    expect(config.default_route).toBe('default');
    expect(config.port).toBe(3000);
    expect(config.redis_url).toBe('redis://127.0.0.1:6379');
  });

  it('makes OPENAI_BASE_URL the default route, with the key read from OPENAI_API_KEY', () => {
    const config = loadConfig({ OPENAI_BASE_URL: 'https://api.example.com/v1', OPENAI_MODEL: 'gpt-4o' });
    expect(config.routes[0]).toMatchObject({ name: 'default', model: 'gpt-4o', api_key_env: 'OPENAI_API_KEY' });
  });

  it('reads the file, with the environment winning', () => {
    const path = configFile({ port: 4000, log_level: 'debug', programs: { qa: { signature: 'question -> answer' } } });
    const config = loadConfig({ PREDICTQ_CONFIG: path, PORT: '5000' });
    expect(config.port).toBe(5000);
    expect(config.log_level).toBe('debug');
    expect(config.programs.qa).toMatchObject({ module: 'Predict', version: '1', demos: [] });
  });

  it('takes a Redis Cluster as REDIS_URL listing several seeds', () => {
    const seeds = 'redis://10.0.0.1:7000,redis://10.0.0.2:7000,redis://10.0.0.3:7000';
    expect(loadConfig({ REDIS_URL: seeds }).redis_url).toBe(seeds);
  });

  it('is frozen', () => {
    const config = loadConfig({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.routes[0])).toBe(true);
  });

  it('names the setting that is wrong', () => {
    expect(failure(() => loadConfig({ PORT: 'eighty' })).message).toContain('PORT');
    expect(failure(() => loadConfig({ LOG_LEVEL: 'loud' })).message).toContain('log_level');
    expect(failure(() => loadConfig({ REDIS_URL: 'localhost:6379' })).message).toContain('redis_url');
    expect(failure(() => loadConfig({ REDIS_URL: 'redis://a:7000,b:7001' })).message).toContain('redis_url');
    expect(failure(() => loadConfig({ CACHE_ENCRYPTION_KEY: 'short' })).message).toContain('CACHE_ENCRYPTION_KEY');
    expect(failure(() => loadConfig({ PREDICTQ_CONFIG: '/nonexistent/config.json' })).message).toContain('PREDICTQ_CONFIG');
    expect(failure(() => loadConfig({ PREDICTQ_CONFIG: configFile('{ not json') })).message).toContain('PREDICTQ_CONFIG');
    const badRoute = configFile({ routes: [{ name: 'r', model: 'm', base_url: 'not a url' }] });
    expect(failure(() => loadConfig({ PREDICTQ_CONFIG: badRoute })).message).toContain('routes.0.base_url');
    const unknownKey = configFile({ routez: [] });
    expect(failure(() => loadConfig({ PREDICTQ_CONFIG: unknownKey })).code).toBe('config_invalid');
    const twice = configFile({
      routes: [
        { name: 'r', model: 'a', base_url: 'http://x/v1' },
        { name: 'r', model: 'b', base_url: 'http://y/v1' },
      ],
    });
    expect(failure(() => loadConfig({ PREDICTQ_CONFIG: twice })).message).toContain('"r"');
  });

  it('finds routes by route name or model, and nothing else', () => {
    const path = configFile({
      routes: [
        { name: 'fast', model: 'small-model', base_url: 'http://x/v1' },
        { name: 'smart', model: 'big-model', base_url: 'http://y/v1' },
      ],
    });
    const config = loadConfig({ PREDICTQ_CONFIG: path });
    expect(findRoute(config, undefined)?.name).toBe('fast');
    expect(findRoute(config, 'smart')?.name).toBe('smart');
    expect(findRoute(config, 'big-model')?.name).toBe('smart');
    expect(findRoute(config, 'unknown')).toBeUndefined();
  });

  it('reads a program from a DSPy program.save() file next to the config, checked against its signature', () => {
    const fixture = new URL('../../../../test/fixtures/dspy-rag-cot.program.json', import.meta.url).pathname;
    const path = configFile({ programs: { rag: { path: fixture, signature: 'context: list[str], question -> answer', version: '7' } } });
    const rag = loadConfig({ PREDICTQ_CONFIG: path }).programs.rag!;
    expect(rag).toMatchObject({ module: 'ChainOfThought', adapter: 'chat', version: '7', instructions: expect.stringMatching(/^Read the passages/) });
    expect(rag.demos).toHaveLength(2);
    expect(rag.fields?.[3]).toEqual({ prefix: 'Answer:', description: 'often between 1 and 5 words' });
    const wrong = configFile({ programs: { rag: { path: fixture, signature: 'question -> answer' } } });
    expect(failure(() => loadConfig({ PREDICTQ_CONFIG: wrong })).message).toMatch(/^programs\.rag\.path: /);
    const missing = configFile({ programs: { rag: { path: 'nope.json', signature: 'q -> a' } } });
    expect(failure(() => loadConfig({ PREDICTQ_CONFIG: missing })).message).toMatch(/^programs\.rag\.path: cannot read/);
  });
});
