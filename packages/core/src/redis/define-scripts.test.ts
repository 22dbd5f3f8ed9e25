import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { keyCount } from './define-scripts.js';

const SRC = join(dirname(fileURLToPath(import.meta.url)), '..');

function luaFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? luaFiles(join(dir, entry.name)) : entry.name.endsWith('.lua') ? [join(dir, entry.name)] : [],
  );
}

describe('Redis scripts', () => {
  it('reads the key count from the file name', () => {
    expect(keyCount('reserve-budget-4.lua')).toBe(4);
    expect(() => keyCount('reserve-budget.lua')).toThrow(TypeError);
  });

  it('every script is named name-N.lua and documents KEYS and ARGV in its header', () => {
    const files = luaFiles(SRC);
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      const keys = keyCount(file);
      expect(text, file).toMatch(/KEYS\[1/);
      expect(text, file).toMatch(/ARGV\[1/);
      // The declared key count matches the highest KEYS index the script touches.
      const used = Math.max(0, ...[...text.matchAll(/KEYS\[(\d+)\]/g)].map((m) => Number(m[1])));
      expect(used, file).toBeLessThanOrEqual(keys);
    }
  });
});
