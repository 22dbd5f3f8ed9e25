// The `predictq` command line as a real process against a running stack: exit codes, --json,
// the output files, and the progress bar's final line on a pseudo-terminal (script(1)).
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from './utils/processes.js';
import { startStack, type Stack } from './utils/stack.js';

const CLI = [process.execPath, '--conditions=source', '--import', 'tsx', join(ROOT, 'packages', 'client', 'src', 'cli.ts')];

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string>, tty = false): Promise<Ran> {
  const quoted = [...CLI, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  // script(1) gives the command a pseudo-terminal, as an interactive shell would.
  const [command, argv] = tty ? ['script', ['-qfec', quoted, '/dev/null']] : [CLI[0]!, [...CLI.slice(1), ...args]];
  const child = spawn(command, argv, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

describe('the predictq command line', () => {
  let stack: Stack;
  let dir: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    stack = await startStack({ workers: 1 });
    dir = mkdtempSync(join(tmpdir(), 'predictq-cli-'));
    env = { PREDICTQ_URL: stack.url };
  });
  afterAll(async () => {
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const input = (name: string, n: number) => {
    const path = join(dir, name);
    const lines = Array.from({ length: n }, (_, i) =>
      JSON.stringify({ custom_id: `c${i}`, method: 'POST', url: '/v1/chat/completions', body: { model: 'sim-small', messages: [{ role: 'user', content: `cli ${i} ${randomUUID()}` }] } }),
    );
    writeFileSync(path, `${lines.join('\n')}\n`);
    return path;
  };

  it('predicts, prints the outputs, and exits 0; a refused request exits 3 naming the code', async () => {
    const ok = await cli(['predict', 'question -> answer', `question=What is the capital of France? ${randomUUID()}`], env);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^answer: .+/m);
    const json = await cli(['predict', 'question -> answer', 'question=again', '--json'], env);
    expect(JSON.parse(json.stdout)).toMatchObject({ object: 'prediction', status: 'succeeded' });
    const bad = await cli(['predict', 'question answer', 'question=x'], env);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toMatch(/invalid_signature/);
  });

  it('exits 2 on a wrong command line, and 3 when predictq cannot be reached', async () => {
    expect((await cli(['frobnicate'], env)).code).toBe(2);
    expect((await cli(['predict', 'q -> a', 'nonsense'], env)).code).toBe(2);
    const away = await cli(['batch', 'list'], { PREDICTQ_URL: 'http://127.0.0.1:1' });
    expect(away.code).toBe(3);
    expect(away.stderr).toMatch(/cannot reach predictq/);
  });

  it('runs a batch with --json and no bar when stdout is not a terminal, and lists and gets it', async () => {
    const out = join(dir, 'out.jsonl');
    const ran = await cli(['batch', 'run', input('in.jsonl', 30), '-o', out, '--json'], env);
    expect(ran.code).toBe(0);
    const batch = JSON.parse(ran.stdout) as { id: string; status: string; request_counts: { total: number } };
    expect(batch).toMatchObject({ status: 'completed', request_counts: { total: 30, completed: 30, failed: 0 } });
    expect(ran.stdout).not.toMatch(/[█░]/);
    expect(readFileSync(out, 'utf8').trim().split('\n')).toHaveLength(30);
    const listed = await cli(['batch', 'list', '--json'], env);
    expect((JSON.parse(listed.stdout) as { data: Array<{ id: string }> }).data.map((b) => b.id)).toContain(batch.id);
    expect(JSON.parse((await cli(['batch', 'get', batch.id, '--json'], env)).stdout)).toMatchObject({ id: batch.id });
    const usage = await cli(['usage', '--json'], env);
    expect(JSON.parse(usage.stdout).total.requests).toBeGreaterThanOrEqual(30);
  });

  it('shows a progress bar on a terminal, ending at the full count', async () => {
    const out = join(dir, 'tty.jsonl');
    const ran = await cli(['batch', 'run', input('tty-in.jsonl', 40), '-o', out], env, true);
    expect(ran.code).toBe(0);
    // Drop the terminal's control sequences (ESC [ ... letter), leaving what a person sees.
    const screen = ran.stdout.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;?]*[A-Za-z]`, 'g'), '');
    expect(screen).toMatch(/100% \| 40\/40 \| completed \| ok 40 failed 0/);
    expect(readFileSync(out, 'utf8').trim().split('\n')).toHaveLength(40);
  });

  it('exits 1 for a batch that did not fully succeed', async () => {
    const path = join(dir, 'bad.jsonl');
    writeFileSync(path, '{"custom_id": "x", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "sim-small", "messages": []}}\n');
    const ran = await cli(['batch', 'run', path, '-o', join(dir, 'bad-out.jsonl')], env);
    expect(ran.code).toBe(1);
    expect(ran.stderr).toMatch(/failed: 0 of 0 succeeded|batch .* failed/);
    expect(ran.stderr).toMatch(/line 1: invalid_request/);
  });
});
