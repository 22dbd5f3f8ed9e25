// The SSRF guard for callback URLs: https only (http when configured), no credentials, and every
// address the host resolves to must be public unicast (ipaddr.js decides the range). Checked at
// submission, and again at connect time by request-filtering-agent on the socket's own lookup,
// so a name that resolves elsewhere later (DNS rebinding) is still refused. Host names in
// `allow_hosts` may reach private addresses, never a cloud metadata service.
import * as dns from 'node:dns';
import type { Agent } from 'node:http';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { RequestFilteringHttpAgent, RequestFilteringHttpsAgent } from 'request-filtering-agent';
import type { WebhookSettings } from '../config/index.js';
import { PredictqError } from '../errors/index.js';

export const REFUSAL_REASONS = ['url', 'scheme', 'credentials', 'address', 'unresolvable', 'no_secret'] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

/** Cloud metadata services (AWS, GCP and Azure, ECS, AWS over IPv6, Alibaba, Oracle): refused even when allow-listed. */
export const METADATA_ADDRESSES = ['169.254.169.254', '169.254.170.2', 'fd00:ec2::254', '100.100.100.200', '192.0.0.192'] as const;

const METADATA = new Set(METADATA_ADDRESSES.map((a) => ipaddr.parse(a).toNormalizedString()));

/** A callback URL predictq will not call (400 callback_url_not_allowed at submission). */
export class CallbackRefusedError extends PredictqError {
  readonly reason: RefusalReason;

  constructor(reason: RefusalReason, message: string, details: Record<string, unknown> = {}) {
    super('callback_url_not_allowed', message, { details: { reason, ...details } });
    this.name = 'CallbackRefusedError';
    this.reason = reason;
  }
}

/** Why an address may not be called ('loopback', 'private', 'linkLocal', 'metadata', ...), or undefined. */
export function addressProblem(address: string, allowListed = false): string | undefined {
  if (!ipaddr.isValid(address)) return 'invalid';
  const parsed = ipaddr.parse(address);
  if (METADATA.has(parsed.toNormalizedString())) return 'metadata';
  if (allowListed) return undefined;
  // Anything but public unicast: loopback, private, linkLocal, uniqueLocal, carrierGradeNat,
  // multicast, unspecified, reserved, and IPv4-mapped IPv6 (which could hide any of them).
  const range = parsed.range();
  return range === 'unicast' ? undefined : range;
}

const unbracket = (hostname: string) => (hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname);

export interface CheckedUrl {
  url: URL;
  /** The host is in allow_hosts: private addresses are allowed. */
  allowListed: boolean;
}

type GuardSettings = Pick<WebhookSettings, 'allow_http' | 'allow_hosts' | 'dns_servers'>;
type Family = 4 | 6;

export class CallbackGuard {
  readonly #settings: GuardSettings;
  readonly #allowHosts: Set<string>;
  readonly #resolver: dns.promises.Resolver | undefined;
  readonly #agents: Record<'http' | 'https', Record<'filtered' | 'allowListed', Agent>>;

  constructor(settings: GuardSettings) {
    this.#settings = settings;
    this.#allowHosts = new Set(settings.allow_hosts.map((h) => unbracket(h.toLowerCase())));
    if (settings.dns_servers.length > 0) {
      this.#resolver = new dns.promises.Resolver({ timeout: 2000, tries: 2 });
      this.#resolver.setServers(settings.dns_servers);
    }
    const deny = [...METADATA_ADDRESSES];
    const common = { keepAlive: true, maxSockets: 64, denyIPAddressList: deny };
    this.#agents = {
      http: {
        filtered: new RequestFilteringHttpAgent(common),
        allowListed: new RequestFilteringHttpAgent({ ...common, allowPrivateIPAddress: true }),
      },
      https: {
        filtered: new RequestFilteringHttpsAgent(common),
        allowListed: new RequestFilteringHttpsAgent({ ...common, allowPrivateIPAddress: true }),
      },
    };
  }

  /** The checks that need no DNS: URL shape, scheme, credentials, an IP literal's range. */
  parse(raw: string): CheckedUrl {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new CallbackRefusedError('url', 'callback_url is not a valid URL');
    }
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && this.#settings.allow_http)) {
      throw new CallbackRefusedError('scheme', `callback_url must use https${this.#settings.allow_http ? ' or http' : ''}`, { scheme: url.protocol.slice(0, -1) });
    }
    if (url.username !== '' || url.password !== '') {
      throw new CallbackRefusedError('credentials', 'callback_url must not carry credentials (user:password@)');
    }
    // The WHATWG parser has already turned decimal, octal and hex IPv4 forms into dotted quads.
    const host = unbracket(url.hostname);
    const allowListed = this.#allowHosts.has(host);
    if (ipaddr.isValid(host)) this.#checkAddress(host, host, allowListed);
    return { url, allowListed };
  }

  /** At submission: parse, then resolve the host and check every address it has now. */
  async check(raw: string): Promise<CheckedUrl> {
    const checked = this.parse(raw);
    const host = unbracket(checked.url.hostname);
    if (checked.allowListed || ipaddr.isValid(host)) return checked;
    let addresses: string[];
    try {
      addresses = await this.resolve(host);
    } catch {
      addresses = [];
    }
    if (addresses.length === 0) throw new CallbackRefusedError('unresolvable', `callback_url's host ${host} does not resolve`);
    for (const address of addresses) this.#checkAddress(host, address, false);
    return checked;
  }

  #checkAddress(host: string, address: string, allowListed: boolean): void {
    const problem = addressProblem(address, allowListed);
    if (problem === undefined) return;
    const what = host === address ? address : `${host} resolves to ${address}, which`;
    throw new CallbackRefusedError('address', `callback_url's host ${what} is not a public address (${problem})`, { range: problem });
  }

  /** Every address of a host, from the configured DNS servers or the system resolver. */
  async resolve(host: string): Promise<string[]> {
    if (!this.#resolver) return (await dns.promises.lookup(host, { all: true, verbatim: true })).map((a) => a.address);
    const [v4, v6] = await Promise.allSettled([this.#resolver.resolve4(host), this.#resolver.resolve6(host)]);
    const found = [...(v4.status === 'fulfilled' ? v4.value : []), ...(v6.status === 'fulfilled' ? v6.value : [])];
    if (found.length === 0 && v4.status === 'rejected') throw v4.reason;
    return found;
  }

  /**
   * The connect-time lookup for a socket: resolves as `resolve` does and refuses a forbidden
   * address before any connection is made (request-filtering-agent checks the answer again).
   */
  lookupFor(allowListed: boolean): LookupFunction {
    const lookup = (hostname: string, options: dns.LookupOptions, callback: (...args: unknown[]) => void) => {
      this.resolve(hostname).then(
        (addresses) => {
          const wanted = addresses.filter((a) => !options.family || ipaddr.parse(a).kind() === (options.family === 6 ? 'ipv6' : 'ipv4'));
          if (wanted.length === 0) return callback(Object.assign(new Error(`${hostname} does not resolve`), { code: 'ENOTFOUND' }));
          for (const address of wanted) {
            const problem = addressProblem(address, allowListed);
            if (problem !== undefined) {
              return callback(new CallbackRefusedError('address', `${hostname} resolves to ${address}, which is not a public address (${problem})`, { range: problem }));
            }
          }
          const family = (a: string): Family => (ipaddr.parse(a).kind() === 'ipv6' ? 6 : 4);
          if (options.all) return callback(null, wanted.map((address) => ({ address, family: family(address) })));
          callback(null, wanted[0], family(wanted[0]!));
        },
        (err: unknown) => callback(err),
      );
    };
    return lookup as unknown as LookupFunction;
  }

  /** The connection pool for a URL: request-filtering-agent, permissive only for allow-listed hosts. */
  agentFor({ url, allowListed }: CheckedUrl): Agent {
    return this.#agents[url.protocol === 'https:' ? 'https' : 'http'][allowListed ? 'allowListed' : 'filtered'];
  }

  close(): void {
    for (const kind of Object.values(this.#agents)) for (const agent of Object.values(kind)) agent.destroy();
  }
}

/** Whether an error is the guard (ours or request-filtering-agent's) refusing an address at connect time. */
export function isRefusal(err: unknown): boolean {
  if (err instanceof CallbackRefusedError) return true;
  return err instanceof Error && / is not allowed\. Because/.test(err.message);
}
