// Standard Webhooks signatures (the `standardwebhooks` package signs; nothing is hand-rolled).
// Secrets come from environment variables named in the config, are parsed once per process and
// never leave it: job data names the tenant and endpoint, never a secret.
import { Webhook } from 'standardwebhooks';
import type { Config, WebhookSettings } from '../config/index.js';
import { ConfigError } from '../errors/index.js';
import type { WebhookDestination } from './webhook-job.js';

const PREFIX = 'whsec_';

interface SecretRef {
  secret_env?: string | undefined;
  previous_secret_env?: string | undefined;
  previous_secret_until?: string | undefined;
}

/** A destination's secrets: the current one, and during a rotation the previous one until its end. */
interface SecretSet {
  current: Webhook;
  previous?: { webhook: Webhook; until: number };
}

/** A `whsec_` secret: base64 of 24 to 64 random bytes, as Standard Webhooks asks. */
export function parseWebhookSecret(variable: string, value: string): Webhook {
  const fail = (problem: string): never => {
    throw new ConfigError(`${variable}: ${problem} (a webhook secret is "whsec_" followed by base64 of 24 to 64 random bytes)`);
  };
  if (!value.startsWith(PREFIX)) fail('does not start with "whsec_"');
  const base64 = value.slice(PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64) || base64.length % 4 !== 0) fail('is not base64 after "whsec_"');
  const bytes = Buffer.from(base64, 'base64').length;
  if (bytes < 24 || bytes > 64) fail(`holds ${bytes} bytes`);
  return new Webhook(value);
}

type Env = Record<string, string | undefined>;

function secretSet(ref: SecretRef, env: Env, required: boolean, where: string): SecretSet | undefined {
  if (!ref.secret_env) return undefined;
  const value = env[ref.secret_env];
  if (!value) {
    if (required) throw new ConfigError(`${where}.secret_env: the environment variable ${ref.secret_env} is not set`);
    return undefined;
  }
  const set: SecretSet = { current: parseWebhookSecret(ref.secret_env, value) };
  if (ref.previous_secret_env) {
    const previous = env[ref.previous_secret_env];
    if (!previous) throw new ConfigError(`${where}.previous_secret_env: the environment variable ${ref.previous_secret_env} is not set`);
    if (!ref.previous_secret_until) throw new ConfigError(`${where}.previous_secret_until: say until when the previous secret signs too`);
    set.previous = { webhook: parseWebhookSecret(ref.previous_secret_env, previous), until: Date.parse(ref.previous_secret_until) };
  }
  return set;
}

/** Signs deliveries with the secrets of their destination. Built once per process. */
export class WebhookSigner {
  readonly #callbacks = new Map<string, SecretSet>();
  readonly #endpoints = new Map<string, SecretSet>();
  readonly #fallback: SecretSet | undefined;

  /** Throws ConfigError for a named variable that is missing or malformed (only the default callback secret may be unset). */
  constructor(settings: WebhookSettings, env: Env) {
    this.#fallback = secretSet(settings, env, false, 'webhooks');
    for (const [tenant, t] of Object.entries(settings.tenants)) {
      const own = secretSet(t, env, true, `webhooks.tenants.${tenant}`);
      if (own) this.#callbacks.set(tenant, own);
      for (const endpoint of t.endpoints) {
        this.#endpoints.set(`${tenant}\u0000${endpoint.name}`, secretSet(endpoint, env, true, `webhooks.tenants.${tenant}.endpoints.${endpoint.name}`)!);
      }
    }
  }

  #secrets(tenant: string, destination: WebhookDestination): SecretSet | undefined {
    if (destination.kind === 'endpoint') return this.#endpoints.get(`${tenant}\u0000${destination.name}`);
    return this.#callbacks.get(tenant) ?? this.#fallback;
  }

  /** Whether a tenant's callback_url deliveries can be signed. */
  signsCallbacks(tenant: string): boolean {
    return this.#callbacks.has(tenant) || this.#fallback !== undefined;
  }

  /**
   * The webhook-signature header: one `v1,<base64>` per secret in force, space-separated (so a
   * receiver holding either secret verifies during a rotation). Undefined when there is no secret.
   */
  signature(tenant: string, destination: WebhookDestination, id: string, timestamp: Date, body: string): string | undefined {
    const set = this.#secrets(tenant, destination);
    if (!set) return undefined;
    const signatures = [set.current.sign(id, timestamp, body)];
    if (set.previous && timestamp.getTime() < set.previous.until) signatures.push(set.previous.webhook.sign(id, timestamp, body));
    return signatures.join(' ');
  }
}

/** For loadConfig: a bad or missing secret stops start-up there, naming the variable. */
export function checkWebhookSecrets(config: Pick<Config, 'webhooks'>, env: Env): void {
  new WebhookSigner(config.webhooks, env);
}
