// The logger's redaction of secrets wherever pino meets them, and how its lines reach stdout.
import { spawn } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { capture } from '../../../../test/utils/capture-logs.js';

async function flush(): Promise<void> {
  await new Promise((r) => setImmediate(r));
}

describe('logger redaction', () => {
  it('blanks authorization headers, API keys and secrets wherever pino meets them', async () => {
    const { raw, logger } = capture();
    const secret = 'sk-test-7f3c9a';
    logger.info({ req: { headers: { authorization: `Bearer ${secret}`, 'x-api-key': secret, 'proxy-authorization': secret, cookie: secret } } }, 'request');
    logger.info({ headers: { authorization: secret, 'x-api-key': secret } }, 'outgoing');
    logger.info({ client: { apiKey: secret, api_key: secret, headers: { authorization: secret } } }, 'client');
    logger.info({ apiKey: secret, api_key: secret, secret, password: secret, webhook: { secret } }, 'top level');
    await flush();
    expect(raw).toHaveLength(4);
    for (const line of raw) {
      expect(line).not.toContain(secret);
      expect(line).toContain('[redacted]');
    }
  });
});

describe('logger output', () => {
  const logger = fileURLToPath(new URL('./logger.ts', import.meta.url));
  /** A node process that makes the stdout logger and runs `script` with it as `log`. */
  function spawnLogging(script: string) {
    const code = `import { createLogger } from ${JSON.stringify(pathToFileURL(logger).href)}; const log = createLogger({ name: 't' }); ${script}`;
    return spawn(process.execPath, ['--conditions=source', '--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  }

  it("writes a quiet process's line without waiting for more, or for the process to end", async () => {
    const child = spawnLogging(`log.info('alone'); setInterval(() => {}, 1000);`);
    try {
      const line = await new Promise<string>((resolve) => child.stdout.on('data', (chunk: Buffer) => resolve(chunk.toString())));
      expect(JSON.parse(line)).toMatchObject({ msg: 'alone' });
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('writes every buffered line when the process exits', async () => {
    const child = spawnLogging(`for (let i = 0; i < 500; i++) log.info({ i }, 'line'); process.exit(0);`);
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    await new Promise((resolve) => child.once('close', resolve));
    const lines = out.trim().split('\n').map((l) => JSON.parse(l) as { i: number });
    expect(lines.map((l) => l.i)).toEqual([...Array(500).keys()]);
  });
});
