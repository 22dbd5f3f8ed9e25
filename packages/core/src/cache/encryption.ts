// Optional AES-256-GCM for L2 values (CACHE_ENCRYPTION_KEY). The Redis key is the additional
// authenticated data, so a value copied under another key fails to decrypt like a tampered one.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ConfigError } from '../errors/index.js';

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Accepts 32 bytes as 64 hex characters or as base64; anything else stops start-up. */
export function parseEncryptionKey(raw: string, setting = 'CACHE_ENCRYPTION_KEY'): Buffer {
  const text = raw.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
  if (key.length !== 32) {
    throw new ConfigError(`${setting} must be 32 bytes, as 64 hex characters or base64 (e.g. \`openssl rand -base64 32\`)`);
  }
  return key;
}

export function encrypt(key: Buffer, plaintext: Buffer, aad: string): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]);
}

/** The plaintext, or undefined when the value is tampered with, truncated or under another key. */
export function decrypt(key: Buffer, sealed: Buffer, aad: string): Buffer | undefined {
  if (sealed.length < IV_BYTES + TAG_BYTES) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(aad));
    decipher.setAuthTag(sealed.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
  } catch {
    return undefined;
  }
}
