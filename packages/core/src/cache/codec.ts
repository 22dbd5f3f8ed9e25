// L2 value encoding: one version byte, one flags byte, then JSON, deflated when large, sealed
// with AES-256-GCM when a key is configured. A value that does not decode is a miss, never an
// error (the caller's EntryType then checks its shape).
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { decrypt, encrypt } from './encryption.js';

const VERSION = 2;
const DEFLATED = 1;
const ENCRYPTED = 2;
/** Below this, deflate costs more than it saves. */
const DEFLATE_FROM_BYTES = 1024;

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
  encode(entry: unknown, aad: string): Buffer {
    let body: Buffer = Buffer.from(JSON.stringify(entry));
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

  decode(value: Buffer, aad: string): unknown {
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
      return JSON.parse(body.toString('utf8')) as unknown;
    } catch {
      return undefined;
    }
  }
}
