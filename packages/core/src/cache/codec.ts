// L2 value encoding: one version byte, one flags byte, then compact JSON (short keys), deflated
// when large, sealed with AES-256-GCM when a key is configured. A value that does not decode is
// a miss, never an error.
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { CachedEntry } from './cached-entry.js';
import { decrypt, encrypt } from './encryption.js';

const VERSION = 1;
const DEFLATED = 1;
const ENCRYPTED = 2;
/** Below this, deflate costs more than it saves. */
const DEFLATE_FROM_BYTES = 1024;

interface Compact {
  o: Record<string, unknown>;
  u: [number, number, number];
  f: string | null;
  m: string;
  r: string;
  p: string | null;
  t: number;
}

export interface CodecOptions {
  /** 32-byte AES key; values are sealed when given. */
  key?: Buffer | undefined;
}

export class EntryCodec {
  readonly #key: Buffer | undefined;

  constructor(options: CodecOptions = {}) {
    this.#key = options.key;
  }

  get encrypted(): boolean {
    return this.#key !== undefined;
  }

  /** `aad` binds the sealed value to its Redis key. */
  encode(entry: CachedEntry, aad: string): Buffer {
    const compact: Compact = {
      o: entry.outputs,
      u: [entry.usage.prompt_tokens, entry.usage.completion_tokens, entry.usage.total_tokens],
      f: entry.finish_reason,
      m: entry.model,
      r: entry.route,
      p: entry.program_version,
      t: entry.computed_at,
    };
    let body: Buffer = Buffer.from(JSON.stringify(compact));
    let flags = 0;
    if (body.length >= DEFLATE_FROM_BYTES) {
      body = deflateRawSync(body);
      flags |= DEFLATED;
    }
    if (this.#key) {
      body = encrypt(this.#key, body, aad);
      flags |= ENCRYPTED;
    }
    return Buffer.concat([Buffer.from([VERSION, flags]), body]);
  }

  decode(value: Buffer, aad: string): CachedEntry | undefined {
    if (value.length < 2 || value[0] !== VERSION) return undefined;
    const flags = value[1]!;
    let body: Buffer | undefined = value.subarray(2);
    if (flags & ENCRYPTED) {
      if (!this.#key) return undefined;
      body = decrypt(this.#key, body, aad);
      if (!body) return undefined;
    } else if (this.#key) {
      // With encryption on, a plaintext value was not written by us.
      return undefined;
    }
    try {
      if (flags & DEFLATED) body = inflateRawSync(body);
      const c = JSON.parse(body.toString('utf8')) as Partial<Compact>;
      if (!c || typeof c.o !== 'object' || c.o === null || !Array.isArray(c.u) || c.u.length !== 3) return undefined;
      if (typeof c.m !== 'string' || typeof c.r !== 'string' || typeof c.t !== 'number') return undefined;
      const [prompt, completion, total] = c.u;
      if (![prompt, completion, total].every((n) => Number.isInteger(n) && (n as number) >= 0)) return undefined;
      return {
        outputs: c.o,
        usage: { prompt_tokens: prompt!, completion_tokens: completion!, total_tokens: total! },
        finish_reason: typeof c.f === 'string' ? c.f : null,
        model: c.m,
        route: c.r,
        program_version: typeof c.p === 'string' ? c.p : null,
        computed_at: c.t,
      };
    } catch {
      return undefined;
    }
  }
}
