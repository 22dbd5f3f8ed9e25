// The logger's redaction of secrets wherever pino meets them, and how its lines reach stdout.
import { spawn } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { capture } from '../../../../test/utils/capture-logs.js';
import { redactSecrets } from './logger.js';

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

  it("leaves the caller's object as it was, and an error's message and stack in the line", async () => {
    const { lines, logger } = capture();
    const secret = 'sk-test-7f3c9a';
    const err = Object.assign(new Error('upstream refused'), { apiKey: secret });
    const logged = { res: { headers: { 'set-cookie': secret, 'content-type': 'text/plain' } }, err, route: { name: 'default', api_key: secret } };
    logger.error(logged, 'failed');
    await flush();
    expect(JSON.stringify(lines)).not.toContain(secret);
    expect(lines[0]).toMatchObject({
      res: { headers: { 'set-cookie': '[redacted]', 'content-type': 'text/plain' } },
      err: { message: 'upstream refused', apiKey: '[redacted]' },
      route: { name: 'default', api_key: '[redacted]' },
    });
    expect((lines[0] as { err: { stack: string } }).err.stack).toContain('upstream refused');
    expect(logged.res.headers['set-cookie']).toBe(secret);
    expect(err.apiKey).toBe(secret);
    expect(logged.route.api_key).toBe(secret);
  });

  it('copies nothing from a line that holds no secret', () => {
    const line = { request_id: 'r1', req: { method: 'POST', url: '/v1/predictions', headers: { 'content-type': 'application/json' } }, n: 3 };
    const out = redactSecrets(line);
    expect(out).toBe(line);
    expect(out.req).toBe(line.req);
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
