// L2 values: compact, optionally sealed with AES-256-GCM; anything that does not decode is a miss.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors/index.js';
import { EntryCodec } from './codec.js';
import { parseEncryptionKey } from './encryption.js';

const entry = {
  outputs: { answer: 'Paris', confidence: 0.9 },
  usage: { prompt_tokens: 120, completion_tokens: 8, total_tokens: 128 },
  finish_reason: 'stop',
  model: 'sim-small',
  route: 'default',
  program_version: '3',
  computed_at: 1_700_000_000_000,
};

describe('EntryCodec', () => {
  it('round-trips plain, and deflates large values', () => {
    const codec = new EntryCodec();
    expect(codec.decode(codec.encode(entry, 'k'), 'k')).toEqual(entry);
    const big = { ...entry, outputs: { answer: 'lorem ipsum '.repeat(2000) } };
    const encoded = codec.encode(big, 'k');
    expect(encoded.length).toBeLessThan(JSON.stringify(big.outputs).length / 4);
    expect(codec.decode(encoded, 'k')).toEqual(big);
  });

  it('round-trips encrypted, and the ciphertext does not show the answer', () => {
    const codec = new EntryCodec({ key: randomBytes(32) });
    const sealed = codec.encode(entry, 'pfx:cache:{abc}:v');
    expect(sealed.toString('latin1')).not.toContain('Paris');
    expect(codec.decode(sealed, 'pfx:cache:{abc}:v')).toEqual(entry);
  });

  it('treats a tampered, truncated, moved or foreign value as a miss (undefined), never a throw', () => {
    const key = randomBytes(32);
    const codec = new EntryCodec({ key });
    const sealed = codec.encode(entry, 'k1');
    const flipped = Buffer.from(sealed);
    flipped[flipped.length - 1]! ^= 1;
    expect(codec.decode(flipped, 'k1')).toBeUndefined();
    expect(codec.decode(sealed.subarray(0, 20), 'k1')).toBeUndefined();
    expect(codec.decode(sealed, 'k2')).toBeUndefined(); // copied under another key
    expect(new EntryCodec({ key: randomBytes(32) }).decode(sealed, 'k1')).toBeUndefined(); // another key
    expect(codec.decode(new EntryCodec().encode(entry, 'k1'), 'k1')).toBeUndefined(); // plaintext injected
    expect(new EntryCodec().decode(sealed, 'k1')).toBeUndefined(); // no key to open it
    expect(new EntryCodec().decode(Buffer.from('garbage'), 'k1')).toBeUndefined();
    expect(new EntryCodec().decode(Buffer.from([1, 0, ...Buffer.from('{"o":1}')]), 'k1')).toBeUndefined(); // an older version
    expect(new EntryCodec().decode(Buffer.from([2, 0, ...Buffer.from('{"o":')]), 'k1')).toBeUndefined(); // not JSON
  });
});

describe('parseEncryptionKey', () => {
  it('accepts 32 bytes as hex or base64 and refuses anything else with config_invalid', () => {
    const raw = randomBytes(32);
    expect(parseEncryptionKey(raw.toString('hex'))).toEqual(raw);
    expect(parseEncryptionKey(raw.toString('base64'))).toEqual(raw);
    expect(() => parseEncryptionKey('too-short')).toThrow(ConfigError);
    try {
      parseEncryptionKey(randomBytes(16).toString('base64'));
    } catch (err) {
      expect((err as ConfigError).code).toBe('config_invalid');
    }
  });
});
