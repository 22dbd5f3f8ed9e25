// A logger whose lines the test can read: parsed, and as raw text (to search for secrets).
import { Writable } from 'node:stream';
import { createLogger } from '@predictq/core';

export function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
        raw.push(line);
        lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return { lines, raw, logger: createLogger({ name: 'test', level: 'debug', destination: stream }) };
}
