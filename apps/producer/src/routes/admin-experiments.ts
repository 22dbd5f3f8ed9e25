// Experiments for operators: PUT /admin/experiments/:name (a definition, validated like the
// config file's), GET /admin/experiments (names), GET /admin/experiments/:name (the report:
// each variant against the control), DELETE (a run-time definition), POST
// .../variants/:variant/resume (after a guardrail paused it) and POST .../assign (which
// variant given subjects get, without a prediction).
import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import {
  ExperimentSchema,
  PredictqError,
  assignVariant,
  baselineOf,
  experimentReport,
  findRoute,
  parseProgramRef,
  type Clock,
  type Config,
  type Logger,
  type ProgramStore,
} from '@predictq/core';
import type { ExperimentRouting } from '../experiment-routing.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const MAX_SUBJECTS = 1000;
const AssignSchema = z.object({ subjects: z.array(z.string().min(1).max(256)).min(1).max(MAX_SUBJECTS) }).strict();

function nameOf(raw: unknown, what: string): string {
  const name = String(raw);
  if (!NAME.test(name)) throw new PredictqError('invalid_request', `${what}: use letters, digits, ".", "_" or "-" (at most 63 characters)`);
  return name;
}

export function adminExperimentRoutes(deps: {
  auth: RequestHandler;
  config: Config;
  experiments: ExperimentRouting;
  programs: ProgramStore;
  logger: Logger;
  clock: Clock;
}): Router {
  const { config, experiments, programs } = deps;
  const { store, stats } = experiments;
  const router = Router();

  async function loadOrThrow(name: string) {
    const loaded = await store.get(name, true);
    if (!loaded) throw new PredictqError('unknown_experiment', `no experiment "${name}"`);
    return loaded;
  }

  router.put('/admin/experiments/:name', deps.auth, async (req, res) => {
    const name = nameOf(req.params.name, 'experiment name');
    const parsed = ExperimentSchema.safeParse(req.body ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new PredictqError('invalid_request', `${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`);
    }
    for (const [variantName, variant] of Object.entries(parsed.data.variants)) {
      if (variant.model !== undefined && !findRoute(config, variant.model)) {
        throw new PredictqError('unknown_model', `variants.${variantName}.model: "${variant.model}" is not a configured route or model`);
      }
      if (variant.program !== undefined && (!parseProgramRef(variant.program) || !(await programs.resolve(variant.program)))) {
        throw new PredictqError('unknown_program', `variants.${variantName}.program: no program "${variant.program}"`);
      }
    }
    await store.put(name, parsed.data);
    deps.logger.info({ experiment: name, variants: Object.keys(parsed.data.variants) }, 'experiment defined');
    res.json({ object: 'experiment', name, source: 'runtime', definition: parsed.data });
  });

  router.get('/admin/experiments', deps.auth, async (_req, res) => {
    res.json({ object: 'list', data: await store.names() });
  });

  router.get('/admin/experiments/:name', deps.auth, async (req, res) => {
    const loaded = await loadOrThrow(nameOf(req.params.name, 'experiment name'));
    const variants = Object.keys(loaded.definition.variants);
    const [counts, shadow] = await Promise.all([
      stats.variants(loaded.name, variants),
      loaded.definition.shadow ? stats.shadow(loaded.name, deps.clock.now()) : Promise.resolve(undefined),
    ]);
    res.json(experimentReport(loaded, counts, shadow));
  });

  router.delete('/admin/experiments/:name', deps.auth, async (req, res) => {
    const name = nameOf(req.params.name, 'experiment name');
    if (!(await store.delete(name))) {
      throw new PredictqError(Object.hasOwn(config.experiments, name) ? 'conflict' : 'unknown_experiment', `no run-time definition of experiment "${name}"`);
    }
    res.json({ object: 'experiment', name, deleted: true });
  });

  router.post('/admin/experiments/:name/variants/:variant/resume', deps.auth, async (req, res) => {
    const loaded = await loadOrThrow(nameOf(req.params.name, 'experiment name'));
    const variant = String(req.params.variant);
    if (!Object.hasOwn(loaded.definition.variants, variant)) throw new PredictqError('not_found', `experiment "${loaded.name}" has no variant "${variant}"`);
    const counts = await stats.variants(loaded.name, [variant]);
    const resumed = await store.resume(loaded.name, variant, baselineOf(counts[variant]!));
    if (!resumed) throw new PredictqError('conflict', `variant "${variant}" is not paused`);
    deps.logger.info({ experiment: loaded.name, variant }, 'experiment variant resumed by hand');
    res.json({ object: 'experiment_variant', experiment: loaded.name, variant, status: 'active' });
  });

  router.post('/admin/experiments/:name/assign', deps.auth, async (req, res) => {
    const loaded = await loadOrThrow(nameOf(req.params.name, 'experiment name'));
    const parsed = AssignSchema.safeParse(req.body ?? {});
    if (!parsed.success) throw new PredictqError('invalid_request', `send {"subjects": [...]} with 1 to ${MAX_SUBJECTS} subject strings`);
    const paused = new Set(loaded.paused.keys());
    const assignments = parsed.data.subjects.map((subject) => ({ subject, ...assignVariant(loaded.name, loaded.definition, subject, paused) }));
    res.json({
      object: 'list',
      data: assignments.map((a) => ({ subject: a.subject, variant: a.variant, paused_variant: a.pausedVariant ?? null })),
    });
  });

  return router;
}
