// Saved DSPy programs and their versions: PUT /admin/programs/:name (body: the file DSPy wrote
// with program.save("x.json"); query: signature, module, adapter, model, live) stores a new
// immutable version, GET lists programs and one program's versions, POST .../rollback makes
// an earlier (or a named) version live. Every producer and worker sees the store in Redis.
import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import { jsonBody } from '../json-body.js';
import {
  ADAPTERS,
  MAX_JSON_DEPTH,
  PredictqError,
  defineProgram,
  findRoute,
  nestsDeeperThan,
  type Clock,
  type Config,
  type ProgramStore,
  type ResolvedProgram,
} from '@predictq/core';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

const PutQuerySchema = z
  .object({
    signature: z.string().min(1).max(4000).optional(),
    module: z.enum(['Predict', 'ChainOfThought']).optional(),
    adapter: z.enum(ADAPTERS).optional(),
    model: z.string().min(1).max(200).optional(),
    live: z.enum(['true', 'false']).default('true'),
  })
  .strict();

const RollbackSchema = z.object({ version: z.string().min(1).max(32).optional() }).strict();

function programName(raw: unknown): string {
  const name = String(raw);
  if (!NAME.test(name)) throw new PredictqError('invalid_request', 'a program name uses letters, digits, ".", "_" or "-" (at most 63 characters)');
  return name;
}

function issue(error: z.ZodError, where: string): PredictqError {
  const first = error.issues[0];
  return new PredictqError('invalid_request', `${where}${first?.path.join('.') ? `.${first.path.join('.')}` : ''}: ${first?.message ?? 'invalid'}`);
}

/** A version as the admin API shows it: its demos counted, not listed. */
export function versionView(v: ResolvedProgram, live: string | null): Record<string, unknown> {
  return {
    version: v.version,
    live: v.version === live,
    source: v.source,
    created_at: v.created_at ? new Date(v.created_at).toISOString() : null,
    signature: v.signature,
    module: v.module,
    adapter: v.adapter,
    model: v.model ?? null,
    instructions: v.instructions ?? null,
    demos: v.demos.length,
    dspy_version: v.dspy_version ?? null,
    sha256: v.sha256 ?? null,
  };
}

export function adminProgramRoutes(deps: { auth: RequestHandler; config: Config; programs: ProgramStore; clock: Clock }): Router {
  const { config, programs, clock } = deps;
  const router = Router();
  // A DSPy file with many demos outgrows the admin API's small body limit: its own, configured.
  const body = jsonBody({ limitBytes: config.program_store.max_bytes });

  router.put('/admin/programs/:name', deps.auth, body, async (req, res) => {
    const name = programName(req.params.name);
    const query = PutQuerySchema.safeParse(req.query);
    if (!query.success) throw issue(query.error, 'query');
    const file: unknown = req.body;
    if (typeof file !== 'object' || file === null || Array.isArray(file)) {
      throw new PredictqError('invalid_request', 'send the JSON file DSPy wrote with program.save("program.json") as the body');
    }
    if (nestsDeeperThan(file)) throw new PredictqError('nesting_too_deep', `the program nests arrays and objects more than ${MAX_JSON_DEPTH} levels deep`);
    // A new version of an existing program keeps its signature, adapter and model unless told otherwise.
    const current = await programs.resolve(name);
    const signature = query.data.signature ?? current?.signature;
    if (signature === undefined) {
      throw new PredictqError('invalid_request', 'the first version of a program needs ?signature=... (the DSPy file holds state only, not the signature)');
    }
    const model = query.data.model ?? current?.model;
    if (model !== undefined && !findRoute(config, model)) throw new PredictqError('unknown_model', `model "${model}" is not a configured route or model`);
    const program = defineProgram(file, { signature, module: query.data.module, adapter: query.data.adapter ?? current?.adapter, model }, clock.now());
    const stored = await programs.put(name, program, { live: query.data.live === 'true' });
    const version = (await programs.version(name, stored.version))!;
    res.status(stored.created ? 201 : 200).json({ object: 'program_version', name, ...versionView(version, stored.live), live_version: stored.live });
  });

  router.get('/admin/programs', deps.auth, async (_req, res) => {
    const names = await programs.names();
    const data = await Promise.all(
      names.map(async (name) => {
        const summary = await programs.describe(name);
        return { name, live_version: summary?.live_version ?? null, latest_version: summary?.latest_version ?? null, versions: summary?.versions.length ?? 0 };
      }),
    );
    res.json({ object: 'list', data });
  });

  router.get('/admin/programs/:name', deps.auth, async (req, res) => {
    const name = programName(req.params.name);
    const summary = await programs.describe(name);
    if (!summary) throw new PredictqError('not_found', `no program "${name}"`);
    res.json({
      object: 'program',
      name,
      live_version: summary.live_version,
      previous_version: summary.previous_version,
      latest_version: summary.latest_version,
      versions: summary.versions.map((v) => versionView(v, summary.live_version)),
    });
  });

  router.post('/admin/programs/:name/rollback', deps.auth, jsonBody({ limitBytes: 64 * 1024, strict: true }), async (req, res) => {
    const name = programName(req.params.name);
    const parsed = RollbackSchema.safeParse(req.body ?? {});
    if (!parsed.success) throw issue(parsed.error, 'body');
    const { live, previous } = await programs.setLive(name, parsed.data.version);
    res.json({ object: 'program', name, live_version: live, previous_version: previous });
  });

  return router;
}
