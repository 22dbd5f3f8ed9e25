// Every stable error code has an HTTP status and a row in the README's error table.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '@predictq/core';
import { HTTP_STATUS } from '@predictq/producer';
import { ROOT } from './utils/processes.js';

describe('error codes', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  for (const code of ERROR_CODES) {
    it(`${code} is mapped to a status and documented`, () => {
      expect(HTTP_STATUS[code]).toBeGreaterThanOrEqual(400);
      expect(readme).toMatch(new RegExp(`^\\| \`${code}\` \\| ${HTTP_STATUS[code]} \\|`, 'm'));
    });
  }
});
