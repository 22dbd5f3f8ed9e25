// POST /v1/predictions: the body schema and its resolution into job data. Every check a
// client can fail happens here, before anything is enqueued.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import {
  MAX_DEADLINE_S,
  MAX_JSON_DEPTH,
  PredictqError,
  REASONING_FIELD,
  SamplingParamsSchema,
  ValidationError,
  checkValue,
  configProgram,
  findRoute,
  parseProgramRef,
  nestsDeeperThan,
  preparePrediction,
  type Config,
  type PredictionJobData,
  type PreparedPrediction,
  type Predict,
  type ResolvedProgram,
  type SamplingParams,
} from '@predictq/core';

// "__proto__" would be dropped by any object built from the body (so it would share another
// request's cache key); no DSPy field can have that name anyway.
const fieldName = z
  .string()
  .regex(/^(?!__proto__$)[A-Za-z_][A-Za-z0-9_]*$/, 'field names are identifiers such as "question" (not "__proto__")');

export const PredictionRequestSchema = z
  .object({
    program: z.string().min(1).max(128).optional(),
    signature: z.string().min(1).max(4000).optional(),
    instructions: z.string().max(20_000).optional(),
    module: z.enum(['Predict', 'ChainOfThought']).optional(),
    demos: z.array(z.record(fieldName, z.unknown())).max(64).optional(),
    inputs: z.record(fieldName, z.unknown()),
    model: z.string().min(1).max(200).optional(),
    params: SamplingParamsSchema.optional(),
    experiment: z.string().max(128).optional(),
    subject: z.string().max(256).optional(),
    cache: z.enum(['default', 'no-store', 'refresh']).optional(),
    cache_ttl_s: z.number().int().positive().max(30 * 86_400).optional(),
    /** Checked by the SSRF guard (callback-check.ts), which refuses with callback_url_not_allowed. */
    callback_url: z.string().min(1).max(2048).optional(),
    metadata: z.record(z.string().max(64), z.string().max(512)).optional(),
    priority: z.enum(['interactive', 'batch']).optional(),
    fallback: z.record(fieldName, z.unknown()).optional(),
    /** Seconds the prediction may wait (breaker, rate limits, budget hold, backlog) before it fails. */
    deadline_s: z.number().int().min(1).max(MAX_DEADLINE_S).optional(),
  })
  .strict();

export type PredictionRequest = z.infer<typeof PredictionRequestSchema>;

const hasProto = (value: unknown): boolean => typeof value === 'object' && value !== null && Object.hasOwn(value, '__proto__');

/** Where a body names a field "__proto__": zod's records drop that key silently, so it is refused first. */
function protoKeyPath(body: Record<string, unknown>): string | undefined {
  for (const name of ['inputs', 'fallback', 'metadata', 'params']) if (hasProto(body[name])) return `${name}.__proto__`;
  if (Array.isArray(body.demos)) {
    const i = body.demos.findIndex(hasProto);
    if (i >= 0) return `demos.${i}.__proto__`;
  }
  return hasProto(body) ? '__proto__' : undefined;
}

function describe(issue: z.core.$ZodIssue): string {
  const path = issue.path.length ? issue.path.join('.') : 'body';
  return `${path}: ${issue.message}`;
}

export function parsePredictionRequest(body: unknown): PredictionRequest {
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new PredictqError('invalid_request', 'the body must be a JSON object with at least "inputs"');
  }
  // Before anything walks the body: formatting, hashing and type checks recurse over values.
  if (nestsDeeperThan(body)) {
    throw new PredictqError('nesting_too_deep', `the body nests arrays and objects more than ${MAX_JSON_DEPTH} levels deep`);
  }
  const proto = protoKeyPath(body as Record<string, unknown>);
  if (proto) throw new PredictqError('invalid_request', `${proto}: "__proto__" is not a field name`, { details: { field: proto } });
  const parsed = PredictionRequestSchema.safeParse(body);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const missingInputs = parsed.error.issues.some((i) => i.path[0] === 'inputs' && i.code === 'invalid_type');
    const message = missingInputs && !('inputs' in body)
      ? 'inputs: required; send the input fields as an object, e.g. {"inputs": {"question": "..."}}'
      : parsed.error.issues.slice(0, 3).map(describe).join('; ');
    throw new PredictqError('invalid_request', message, { details: { field: first?.path.join('.') ?? null } });
  }
  if (parsed.data.metadata && Object.keys(parsed.data.metadata).length > 16) {
    throw new PredictqError('invalid_request', 'metadata: at most 16 keys');
  }
  return parsed.data;
}

/** A request resolved into job data, with its rendering (reused for the budget check and the cache key). */
export interface ResolvedPrediction {
  data: PredictionJobData;
  prepared: PreparedPrediction;
}

/** A fallback stands in for the LM's answer: the signature's output fields, each of its type. */
function checkFallback(module: Predict, fallback: Record<string, unknown>, chainOfThought: boolean): void {
  const outputs = module.signature.outputs;
  const fail = (field: string, problem: string): never => {
    throw new PredictqError('invalid_request', `fallback.${field}: ${problem}`, { details: { field: `fallback.${field}` } });
  };
  const names = outputs.map((f) => `"${f.name}"`).join(', ');
  for (const key of Object.keys(fallback)) {
    if (!outputs.some((f) => f.name === key)) fail(key, `not an output field of the signature (it has ${names})`);
  }
  for (const field of outputs) {
    const value = fallback[field.name];
    if (value === undefined) {
      // ChainOfThought adds `reasoning`; a fallback need not make one up.
      if ((chainOfThought && field.name === REASONING_FIELD.name) || field.type.kind === 'optional') continue;
      fail(field.name, `missing; a fallback gives every output field (${names})`);
    }
    const problem = checkValue(field.type, value);
    if (problem !== undefined) fail(field.name, `must be ${field.annotation}: ${problem}`);
  }
}

/** An experiment's verdict for one request: its variant and what the variant changes. */
export interface VariantChoice {
  experiment: string;
  variant: string;
  /** A program reference ("qa" or "qa@2") replacing the request's program or signature. */
  program?: string | undefined;
  model?: string | undefined;
  params?: SamplingParams | undefined;
}

export interface ResolveContext {
  tenant: string;
  requestId: string;
  now: number;
  /** The program the request (or its variant) names, looked up in the program store. Default: the config file's. */
  program?: ResolvedProgram | undefined;
  variant?: VariantChoice | undefined;
  /**
   * The request carries an Idempotency-Key: its job records the request's hash, which a replay
   * with the same key is compared against. Only then: without a key no later request can name
   * the job, and hashing every request was ~4% of a cache hit's CPU.
   */
  idempotent?: boolean;
}

/** A config file's program by reference ("qa", or "qa@<its version>"): what resolves without the program store. */
export function configProgramRef(config: Config, ref: string): ResolvedProgram | undefined {
  const parsed = parseProgramRef(ref);
  const program = parsed && Object.hasOwn(config.programs, parsed.name) ? config.programs[parsed.name] : undefined;
  if (!parsed || !program || (parsed.version !== undefined && parsed.version !== program.version)) return undefined;
  return configProgram(parsed.name, program);
}

export function unknownProgram(config: Config, ref: string): ValidationError {
  const known = Object.keys(config.programs);
  return new ValidationError('unknown_program', `program "${ref}" is not configured` + (known.length ? `; configured: ${known.join(', ')}` : ''));
}

/** Resolves program, signature, route and inputs. Throws the error a client should see. */
export function resolvePrediction(config: Config, request: PredictionRequest, context: ResolveContext): ResolvedPrediction {
  const { variant } = context;
  let signature = request.signature;
  let instructions = request.instructions;
  let module = request.module ?? 'Predict';
  let demos = request.demos ?? [];
  let programVersion: string | null = null;
  let programName: string | null = null;
  let adapter: ResolvedProgram['adapter'] | undefined;
  let fields: ResolvedProgram['fields'];
  let model = variant?.model ?? request.model;
  const programRef = variant?.program ?? request.program;
  if (programRef !== undefined) {
    const program = context.program ?? configProgramRef(config, programRef);
    if (!program) throw unknownProgram(config, programRef);
    if (request.signature !== undefined && variant?.program === undefined) {
      throw new PredictqError('invalid_request', 'send either "program" or "signature", not both');
    }
    // A variant's program replaces what the request said about the prompt.
    const own = variant?.program === undefined;
    signature = program.signature;
    instructions = (own ? request.instructions : undefined) ?? program.instructions;
    module = (own ? request.module : undefined) ?? program.module;
    demos = (own ? request.demos : undefined) ?? program.demos;
    programVersion = program.version;
    programName = program.name;
    adapter = program.adapter;
    fields = program.fields;
    model = model ?? program.model;
  }
  if (signature === undefined) {
    throw new PredictqError('invalid_request', 'send a "signature" such as "question -> answer", or a configured "program"');
  }
  const route = findRoute(config, model);
  if (!route) {
    const known = config.routes.map((r) => r.model);
    throw new ValidationError('unknown_model', `model "${model}" is not configured; available: ${known.join(', ')}`);
  }
  const data: PredictionJobData = {
    v: 1,
    tenant: context.tenant,
    request_id: context.requestId,
    program: programName,
    program_version: programVersion,
    module,
    signature,
    ...(instructions === undefined ? {} : { instructions }),
    demos,
    ...(adapter === undefined || adapter === 'chat' ? {} : { adapter }),
    ...(fields === undefined ? {} : { fields }),
    inputs: request.inputs,
    route: route.name,
    model: route.model,
    params: { ...request.params, ...variant?.params },
    cache: request.cache ?? 'default',
    ...(request.cache_ttl_s === undefined ? {} : { cache_ttl_s: request.cache_ttl_s }),
    ...(request.callback_url === undefined ? {} : { callback_url: request.callback_url }),
    ...(request.metadata === undefined ? {} : { metadata: request.metadata }),
    priority: request.priority ?? 'interactive',
    ...(request.fallback === undefined ? {} : { fallback: request.fallback }),
    variant: variant?.variant ?? null,
    ...(variant ? { experiment: variant.experiment } : {}),
    ...(context.idempotent ? { request_hash: hashRequest(request) } : {}),
    created_at: context.now,
    deadline_at: context.now + (request.deadline_s ?? config.queue.deadline_s) * 1000,
  };
  // Parses the signature and checks the inputs against it (invalid_signature, invalid_input).
  const prepared = preparePrediction(config, data);
  if (request.fallback !== undefined) checkFallback(prepared.module, request.fallback, module === 'ChainOfThought');
  return { data, prepared };
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function hashRequest(request: PredictionRequest): string {
  return createHash('sha256').update(canonical(request)).digest('hex').slice(0, 32);
}
