// API keys to tenants: a tenant listed twice, once per key, accepts both, which is how a
// tenant's key is rotated without a moment when neither works (docs/runbook.md).
import type { Request, Response } from 'express';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '@predictq/core';
import { tenantAuth } from './auth.js';

const route = { name: 'default', model: 'sim-small', base_url: 'http://127.0.0.1:1/v1' };

/** The tenant the middleware gives a request with `key`, or the error code it refuses it with. */
function authenticate(handler: ReturnType<typeof tenantAuth>, key: string): string {
  const req = { headers: { authorization: `Bearer ${key}` } } as Request;
  let outcome = '';
  handler(req, {} as Response, (err?: unknown) => {
    outcome = err ? `error:${(err as { code: string }).code}` : req.tenant!;
  });
  return outcome;
}

describe('tenantAuth', () => {
  it('accepts the old and the new key of a tenant listed once per key, and nothing else', () => {
    const config = loadConfig({}, {
      routes: [route],
      tenants: [
        { name: 'acme', api_key_env: 'ACME_API_KEY' },
        { name: 'acme', api_key_env: 'ACME_API_KEY_NEXT' },
        { name: 'other', api_key_env: 'OTHER_API_KEY' },
      ],
    });
    const auth = tenantAuth(config, { ACME_API_KEY: 'old-key', ACME_API_KEY_NEXT: 'new-key', OTHER_API_KEY: 'other-key' });
    expect(authenticate(auth, 'old-key')).toBe('acme');
    expect(authenticate(auth, 'new-key')).toBe('acme');
    expect(authenticate(auth, 'other-key')).toBe('other');
    expect(authenticate(auth, 'guess')).toBe('error:unauthorized');
    // Once the old variable is gone (the last step of a rotation), its key no longer works.
    const rotated = tenantAuth(config, { ACME_API_KEY_NEXT: 'new-key', OTHER_API_KEY: 'other-key' });
    expect(authenticate(rotated, 'old-key')).toBe('error:unauthorized');
    expect(authenticate(rotated, 'new-key')).toBe('acme');
  });
});
