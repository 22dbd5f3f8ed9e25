import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { WebhookSettingsSchema } from '../config/index.js';
import { ConfigError } from '../errors/index.js';
import { WebhookSigner, parseWebhookSecret } from './webhook-signer.js';

const secret = () => `whsec_${randomBytes(32).toString('base64')}`;

function headers(id: string, at: Date, signature: string) {
  return { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': signature };
}

describe('WebhookSigner', () => {
  it('signs so that standardwebhooks verifies the exact body', () => {
    const current = secret();
    const signer = new WebhookSigner(WebhookSettingsSchema.parse({}), { PREDICTQ_WEBHOOK_SECRET: current });
    const at = new Date();
    const body = JSON.stringify({ type: 'prediction.succeeded', timestamp: at.toISOString(), data: { id: 'pred_1' } });
    const signature = signer.signature('default', { kind: 'callback', url: 'https://example.com/' }, 'evt_1', at, body)!;
    expect(signature).toMatch(/^v1,[A-Za-z0-9+/=]+$/);
    expect(new Webhook(current).verify(body, headers('evt_1', at, signature))).toEqual(JSON.parse(body));
    expect(() => new Webhook(current).verify(`${body} `, headers('evt_1', at, signature))).toThrow();
    expect(() => new Webhook(secret()).verify(body, headers('evt_1', at, signature))).toThrow();
  });

  it('signs with the old and the new secret during a rotation, then with the new one only', () => {
    const [oldSecret, newSecret] = [secret(), secret()];
    const until = new Date(Date.now() + 60_000);
    const settings = WebhookSettingsSchema.parse({
      tenants: {
        acme: {
          endpoints: [
            { name: 'ops', url: 'https://example.com/hook', events: ['*'], secret_env: 'NEW', previous_secret_env: 'OLD', previous_secret_until: until.toISOString() },
          ],
        },
      },
    });
    const signer = new WebhookSigner(settings, { NEW: newSecret, OLD: oldSecret });
    const destination = { kind: 'endpoint' as const, name: 'ops', url: 'https://example.com/hook' };
    const now = new Date();
    const during = signer.signature('acme', destination, 'evt_2', now, '{}')!;
    expect(during.split(' ')).toHaveLength(2);
    expect(() => new Webhook(oldSecret).verify('{}', headers('evt_2', now, during))).not.toThrow();
    expect(() => new Webhook(newSecret).verify('{}', headers('evt_2', now, during))).not.toThrow();
    const after = signer.signature('acme', destination, 'evt_2', new Date(until.getTime() + 1000), '{}')!;
    expect(after.split(' ')).toHaveLength(1);
  });

  it('has no callback secret when the default variable is unset, and refuses a malformed or missing named one', () => {
    expect(new WebhookSigner(WebhookSettingsSchema.parse({}), {}).signsCallbacks('default')).toBe(false);
    expect(() => parseWebhookSecret('X', 'abc')).toThrow(ConfigError);
    expect(() => parseWebhookSecret('X', `whsec_${randomBytes(8).toString('base64')}`)).toThrow(/bytes/);
    const settings = WebhookSettingsSchema.parse({ tenants: { acme: { secret_env: 'ACME_WEBHOOK_SECRET' } } });
    expect(() => new WebhookSigner(settings, {})).toThrow(/ACME_WEBHOOK_SECRET is not set/);
  });
});
