// Reads the environment and the optional PREDICTQ_CONFIG JSON file, validates once, freezes.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { parseEncryptionKey } from '../cache/encryption.js';
import { ConfigError, PredictqError } from '../errors/index.js';
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../program/json-depth.js';
import { defineProgram } from '../program-store/define-program.js';
import { checkWebhookSecrets } from '../webhooks/webhook-signer.js';
import { ConfigSchema, type Config, type ProgramConfig } from './schema.js';

export type Env = Record<string, string | undefined>;

/** The model the default simulator route serves. */
export const SIM_MODEL = 'sim-small';

function intFromEnv(env: Env, key: string): number | undefined {
  const raw = env[key];
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(`${key} must be a whole number, got "${raw}"`);
  return Number(raw);
}

function readFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`PREDICTQ_CONFIG: cannot read ${path}: ${(err as Error).message}`);
  }
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not a JSON object');
    return value as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError(`PREDICTQ_CONFIG: ${path} is not a JSON object: ${(err as Error).message}`);
  }
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.length ? issue.path.join('.') : '(top level)';
  return `${path}: ${issue.message}`;
}

/**
 * Builds the frozen configuration. Environment variables override the file; with no LM
 * configured anywhere, one route points at the simulator.
 */
export function loadConfig(env: Env = process.env, overrides: Record<string, unknown> = {}): Config {
  const file = env.PREDICTQ_CONFIG ? readFile(env.PREDICTQ_CONFIG) : {};
  const raw: Record<string, unknown> = { ...file };
  const set = (key: string, value: unknown) => {
    if (value !== undefined) raw[key] = value;
  };
  set('redis_url', env.REDIS_URL || undefined);
  set('port', intFromEnv(env, 'PORT'));
  set('lm_sim_port', intFromEnv(env, 'LM_SIM_PORT'));
  set('worker_metrics_port', intFromEnv(env, 'WORKER_METRICS_PORT'));
  set('log_level', env.LOG_LEVEL || undefined);
  set('key_prefix', env.PREDICTQ_KEY_PREFIX || undefined);

  if (env.OPENAI_BASE_URL) {
    // The environment's LM becomes the default route (first, named "default").
    const routes = Array.isArray(raw.routes) ? (raw.routes as Array<Record<string, unknown>>) : [];
    const envRoute = {
      name: 'default',
      model: env.OPENAI_MODEL || 'gpt-4o-mini',
      base_url: env.OPENAI_BASE_URL,
      api_key_env: 'OPENAI_API_KEY',
    };
    raw.routes = [envRoute, ...routes.filter((r) => r.name !== 'default')];
  } else if (!Array.isArray(raw.routes) || raw.routes.length === 0) {
    const simPort = (raw.lm_sim_port as number | undefined) ?? 3100;
    raw.routes = [{ name: 'default', model: SIM_MODEL, base_url: `http://127.0.0.1:${simPort}/v1` }];
  }
  Object.assign(raw, overrides);
  const queue = raw.queue as Record<string, unknown> | undefined;
  if (queue && typeof queue === 'object' && 'max_requeues' in queue) {
    // A wait used to be counted; now it is timed (a long backlog no longer fails jobs).
    throw new ConfigError('queue.max_requeues was replaced by queue.deadline_s: how long a prediction may wait, in seconds (default 86400)');
  }

  // Secrets stay out of the config object, but a malformed one still stops start-up here.
  if (env.CACHE_ENCRYPTION_KEY) parseEncryptionKey(env.CACHE_ENCRYPTION_KEY);

  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map(describeIssue);
    throw new ConfigError(`invalid configuration: ${lines.join('; ')}`, { details: { issues: lines } });
  }
  const config = parsed.data;
  const names = new Set<string>();
  for (const route of config.routes) {
    if (names.has(route.name)) throw new ConfigError(`routes: route name "${route.name}" is used twice`);
    names.add(route.name);
  }
  const models = new Set(config.routes.map((r) => r.model));
  if (config.default_route !== undefined && !names.has(config.default_route)) {
    throw new ConfigError(`default_route: no route is named "${config.default_route}"`);
  }
  const baseDir = env.PREDICTQ_CONFIG ? dirname(resolve(env.PREDICTQ_CONFIG)) : process.cwd();
  const rawPrograms = (raw.programs ?? {}) as Record<string, { module?: unknown }>;
  for (const [programName, program] of Object.entries(config.programs)) {
    if (program.path !== undefined) {
      const explicit = rawPrograms[programName]?.module as ProgramConfig['module'] | undefined;
      config.programs[programName] = withSavedProgram(programName, program, explicit, baseDir);
    }
  }
  for (const [experimentName, experiment] of Object.entries(config.experiments)) {
    for (const [variantName, variant] of Object.entries(experiment.variants)) {
      if (variant.model !== undefined && !names.has(variant.model) && !models.has(variant.model)) {
        throw new ConfigError(`experiments.${experimentName}.variants.${variantName}.model: "${variant.model}" is not a configured route or model`);
      }
    }
  }
  if (Object.keys(config.experiments).length > config.experiment_store.max_experiments) {
    throw new ConfigError(`experiments: at most experiment_store.max_experiments (${config.experiment_store.max_experiments}) experiments`);
  }
  for (const [programName, program] of Object.entries(config.programs)) {
    if (program.model !== undefined && !names.has(program.model) && !models.has(program.model)) {
      throw new ConfigError(`programs.${programName}.model: "${program.model}" is not a configured route or model`);
    }
  }
  checkWebhookEndpoints(config);
  // Like the encryption key: named webhook secrets must be present and well-formed at start-up.
  checkWebhookSecrets(config, env);
  return deepFreeze({ ...config, default_route: config.default_route ?? config.routes[0]!.name });
}

function checkWebhookEndpoints(config: z.infer<typeof ConfigSchema>): void {
  for (const [tenant, settings] of Object.entries(config.webhooks.tenants)) {
    const seen = new Set<string>();
    for (const endpoint of settings.endpoints) {
      const where = `webhooks.tenants.${tenant}.endpoints.${endpoint.name}`;
      if (seen.has(endpoint.name)) throw new ConfigError(`${where}: endpoint name used twice`);
      seen.add(endpoint.name);
      if (endpoint.url.startsWith('http:') && !config.webhooks.allow_http) throw new ConfigError(`${where}.url: http is allowed only with webhooks.allow_http`);
    }
  }
}

/** A program whose `path` names a DSPy program.save() file: its saved state, checked against the signature. */
function withSavedProgram(name: string, program: ProgramConfig, module: ProgramConfig['module'] | undefined, baseDir: string): ProgramConfig {
  const setting = `programs.${name}.path`;
  const file = resolve(baseDir, program.path!);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`${setting}: cannot read ${file} as JSON: ${(err as Error).message}`);
  }
  if (nestsDeeperThan(json)) throw new ConfigError(`${setting}: ${file} nests deeper than ${MAX_JSON_DEPTH} levels`);
  try {
    const saved = defineProgram(json, { signature: program.signature, module, adapter: program.adapter }, 0);
    return {
      ...program,
      module: saved.module,
      instructions: program.instructions ?? saved.instructions,
      demos: program.demos.length > 0 ? program.demos : saved.demos,
      ...(saved.fields === undefined ? {} : { fields: saved.fields }),
    };
  } catch (err) {
    if (err instanceof PredictqError) throw new ConfigError(`${setting}: ${err.message}`);
    throw err;
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/** For a process's main: a bad setting stops start-up with a message naming it (exit 2). */
export function loadConfigOrExit(app: string, env: Env = process.env): Config {
  try {
    return loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`predictq ${app}: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
}
