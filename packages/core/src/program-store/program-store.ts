// Named programs and their immutable versions, shared by every producer through Redis: the
// config file's version of a program (if any) plus uploaded ones, a pointer to the live version,
// and the one it replaced (for a rollback). A process trusts its copy of a live pointer for
// `program_store.refresh_ms`; versions never change, so they are cached until evicted.
import type { RedisConnection } from '../queue/connection.js';
import { LRUCache } from 'lru-cache';
import type { Config, ProgramConfig } from '../config/index.js';
import { systemClock, type Clock } from '../clock/index.js';
import { PredictqError } from '../errors/index.js';
import { defineScripts, type ScriptCall } from '../redis/index.js';
import { StoredProgramSchema, parseProgramRef, type ResolvedProgram, type StoredProgram } from './stored-program.js';

export interface ProgramStoreDeps {
  redis: RedisConnection;
  config: Config;
  clock?: Clock;
}

export interface ProgramSummary {
  name: string;
  live_version: string | null;
  previous_version: string | null;
  latest_version: string | null;
  versions: ResolvedProgram[];
}

type Scripts = { programPut: ScriptCall; programSetLive: ScriptCall };

/** A config file's program as a version (source "config"). */
export function configProgram(name: string, program: ProgramConfig): ResolvedProgram {
  return {
    name,
    version: program.version,
    signature: program.signature,
    module: program.module,
    adapter: program.adapter,
    ...(program.instructions === undefined ? {} : { instructions: program.instructions }),
    demos: program.demos,
    ...(program.fields === undefined ? {} : { fields: program.fields }),
    ...(program.model === undefined ? {} : { model: program.model }),
    source: 'config',
    created_at: 0,
  };
}

export class ProgramStore {
  readonly #redis: RedisConnection & Scripts;
  readonly #config: Config;
  readonly #clock: Clock;
  readonly #prefix: string;
  readonly #versions = new LRUCache<string, ResolvedProgram>({ max: 512 });
  readonly #live: LRUCache<string, { live: string | null }>;

  constructor(deps: ProgramStoreDeps) {
    this.#redis = defineScripts(deps.redis, import.meta.url, {
      programPut: './lua/put-program-3.lua',
      programSetLive: './lua/set-live-2.lua',
    });
    this.#config = deps.config;
    this.#clock = deps.clock ?? systemClock;
    // One hash tag for every program key: the scripts touch a program's keys and the name set together.
    this.#prefix = `${deps.config.key_prefix}:{programs}`;
    const ttl = Math.max(1, deps.config.program_store.refresh_ms);
    this.#live = new LRUCache({ max: 1024, ttl, perf: { now: () => this.#clock.now() } });
  }

  #meta(name: string): string {
    return `${this.#prefix}:meta:${name}`;
  }

  #bodies(name: string): string {
    return `${this.#prefix}:bodies:${name}`;
  }

  #configured(name: string): ResolvedProgram | undefined {
    const program = Object.hasOwn(this.#config.programs, name) ? this.#config.programs[name] : undefined;
    return program ? configProgram(name, program) : undefined;
  }

  /** "qa" (its live version) or "qa@3"; undefined when there is no such program or version. */
  async resolve(ref: string): Promise<ResolvedProgram | undefined> {
    const parsed = parseProgramRef(ref);
    if (!parsed) return undefined;
    const version = parsed.version ?? (await this.liveVersion(parsed.name));
    return version === undefined ? undefined : this.version(parsed.name, version);
  }

  /** The live version's name: the pointer in Redis, else the config file's version. */
  async liveVersion(name: string): Promise<string | undefined> {
    let cached = this.#live.get(name);
    if (!cached) {
      cached = { live: await this.#redis.hget(this.#meta(name), 'live') };
      this.#live.set(name, cached);
    }
    return cached.live ?? this.#configured(name)?.version;
  }

  async version(name: string, version: string): Promise<ResolvedProgram | undefined> {
    const configured = this.#configured(name);
    if (configured && configured.version === version) return configured;
    const key = `${name}@${version}`;
    const cached = this.#versions.get(key);
    if (cached) return cached;
    const raw = await this.#redis.hget(this.#bodies(name), version);
    if (raw === null) return undefined;
    const parsed = StoredProgramSchema.safeParse(JSON.parse(raw));
    if (!parsed.success) throw new PredictqError('internal_error', `stored program ${key} is unreadable`);
    const resolved = { ...parsed.data, name, version };
    this.#versions.set(key, resolved);
    return resolved;
  }

  /** Stores a new version (or finds the latest when it has the same content); makes it live unless told not to. */
  async put(name: string, program: StoredProgram, options: { live: boolean }): Promise<{ version: string; created: boolean; live: string }> {
    const configured = this.#configured(name);
    const floor = configured && /^\d+$/.test(configured.version) ? Number(configured.version) : 0;
    const [version, created, live] = (await this.#redis.programPut(
      this.#meta(name),
      this.#bodies(name),
      `${this.#prefix}:names`,
      name,
      JSON.stringify(program),
      program.sha256 ?? '',
      floor,
      options.live ? '1' : '0',
      this.#config.program_store.keep_versions,
      configured ? '1' : '0',
    )) as [number, number, string];
    this.#live.delete(name);
    return { version: String(version), created: created === 1, live: live || (configured?.version ?? String(version)) };
  }

  /** Makes `version` live (default: the one live before); not_found for an unknown one. */
  async setLive(name: string, version?: string): Promise<{ live: string; previous: string | null }> {
    if (!(await this.exists(name))) throw new PredictqError('not_found', `no program "${name}"`);
    const [live, second] = (await this.#redis.programSetLive(
      this.#meta(name),
      this.#bodies(name),
      version ?? '',
      this.#configured(name)?.version ?? '',
    )) as [string, string];
    this.#live.delete(name);
    if (live === '') {
      const message = second === 'no_previous' ? `program "${name}" has no earlier live version` : `program "${name}" has no version "${version}"`;
      throw new PredictqError(second === 'no_previous' ? 'conflict' : 'not_found', message);
    }
    return { live, previous: second || null };
  }

  async exists(name: string): Promise<boolean> {
    return this.#configured(name) !== undefined || (await this.#redis.sismember(`${this.#prefix}:names`, name)) === 1;
  }

  async names(): Promise<string[]> {
    const stored = await this.#redis.smembers(`${this.#prefix}:names`);
    return [...new Set([...Object.keys(this.#config.programs), ...stored])].sort();
  }

  async describe(name: string): Promise<ProgramSummary | undefined> {
    const [meta, bodies] = await Promise.all([this.#redis.hgetall(this.#meta(name)), this.#redis.hgetall(this.#bodies(name))]);
    const configured = this.#configured(name);
    const stored = Object.entries(bodies)
      .map(([version, raw]) => {
        const parsed = StoredProgramSchema.safeParse(JSON.parse(raw));
        return parsed.success ? { ...parsed.data, name, version } : undefined;
      })
      .filter((v): v is ResolvedProgram => v !== undefined)
      .sort((a, b) => Number(a.version) - Number(b.version));
    const versions = configured ? [configured, ...stored.filter((v) => v.version !== configured.version)] : stored;
    if (versions.length === 0) return undefined;
    return {
      name,
      live_version: meta.live ?? configured?.version ?? null,
      previous_version: meta.previous ?? null,
      latest_version: meta.latest ?? configured?.version ?? null,
      versions,
    };
  }
}
