// Protects start-up validation: a bad setting must stop main.ts with a message naming it.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readSimEnv, SimEnvError } from './env.js';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

function runMain(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', MAIN], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return { child, output: () => ({ stdout, stderr }) };
}

describe('readSimEnv', () => {
  it('uses the documented defaults', () => {
    expect(readSimEnv({})).toEqual({ port: 3100, host: '127.0.0.1', latencyMs: 0, latencyPerTokenMs: 0, seed: 1 });
  });

  it.each([
    ['LM_SIM_PORT', 'abc'],
    ['LM_SIM_PORT', '70000'],
    ['LM_SIM_LATENCY_MS', '-5'],
    ['LM_SIM_LATENCY_PER_TOKEN_MS', 'fast'],
  ])('names %s when it is %j', (variable, value) => {
    const read = () => readSimEnv({ [variable]: value });
    expect(read).toThrow(SimEnvError);
    expect(read).toThrow(variable);
  });
});

describe('main', () => {
  it('exits 1 naming the bad variable', async () => {
    const run = runMain({ LM_SIM_PORT: 'not-a-port' });
    const [code] = (await once(run.child, 'exit')) as [number];
    expect(code).toBe(1);
    expect(run.output().stderr).toContain('LM_SIM_PORT');
  });

  it('prints its URL, serves, and exits 0 on SIGTERM', async () => {
    const run = runMain({ LM_SIM_PORT: '0' });
    const exited = once(run.child, 'exit');
    let url: string | undefined;
    for (let i = 0; i < 200 && !url; i += 1) {
      url = /listening on (http:\/\/\S+\/v1)/.exec(run.output().stdout)?.[1];
      if (!url) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    const models = (await (await fetch(`${url}/models`)).json()) as { object: string };
    expect(models.object).toBe('list');
    run.child.kill('SIGTERM');
    const [code] = (await exited) as [number];
    expect(code).toBe(0);
  });
});
