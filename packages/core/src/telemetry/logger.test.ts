// The logger's redaction of secrets wherever pino meets them.
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
