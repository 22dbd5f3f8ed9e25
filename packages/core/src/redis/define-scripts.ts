// Redis scripts live in .lua files beside the module that runs them, named `name-N.lua` where N
// is the key count (BullMQ's convention); `npm run build` copies them into dist/. Each file is
// read once per process and defined once per connection (ioredis defineCommand: EVALSHA with
// an EVAL fallback).
import { readFileSync } from 'node:fs';
import type { RedisConnection } from '../queue/connection.js';

export type ScriptCall = (...args: Array<string | number>) => Promise<unknown>;

const sources = new Map<string, string>();

function read(url: URL): string {
  let text = sources.get(url.href);
  if (text === undefined) {
    text = readFileSync(url, 'utf8');
    sources.set(url.href, text);
  }
  return text;
}

export function keyCount(file: string): number {
  const match = /-(\d+)\.lua$/.exec(file);
  if (!match) throw new TypeError(`Redis script ${file} must be named name-N.lua (N = number of keys)`);
  return Number(match[1]);
}

/**
 * Defines each `command: file` on the connection (files resolved against `base`, usually
 * `import.meta.url`) and returns the connection typed with those commands.
 */
export function defineScripts<C extends string, R extends RedisConnection = RedisConnection>(redis: R, base: string, scripts: Record<C, string>): R & Record<C, ScriptCall> {
  const commands = redis as unknown as Record<string, unknown>;
  for (const [command, file] of Object.entries(scripts) as Array<[C, string]>) {
    if (typeof commands[command] === 'function') continue;
    redis.defineCommand(command, { lua: read(new URL(file, base)), numberOfKeys: keyCount(file) });
  }
  return redis as R & Record<C, ScriptCall>;
}
