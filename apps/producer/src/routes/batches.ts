// OpenAI's Batch API: POST /v1/batches (from an uploaded file), GET /v1/batches (newest first,
// cursor pagination), GET /v1/batches/:id, POST /v1/batches/:id/cancel. The work itself is done
// by the BatchRunner's jobs; these routes only create, read and ask.
import { Router } from 'express';
import { z } from 'zod';
import { BATCH_ENDPOINTS, PredictqError, parseCompletionWindow, type BatchStore, type FileStore } from '@predictq/core';
import type { BatchRunner } from '../batch-runner.js';
import type { CallbackCheck } from '../callback-check.js';

const CreateSchema = z
  .object({
    input_file_id: z.string().min(1).max(64),
    endpoint: z.enum(BATCH_ENDPOINTS),
    completion_window: z.string().max(16),
    metadata: z.record(z.string().max(64), z.string().max(512)).nullish(),
    callback_url: z.url({ protocol: /^https?$/ }).max(2048).optional(),
  })
  .strict();

const ListSchema = z
  .object({ limit: z.coerce.number().int().min(1).max(100).default(20), after: z.string().max(64).optional() })
  .strict();

function invalid(issue: z.core.$ZodIssue | undefined): PredictqError {
  const field = issue?.path.join('.') || null;
  return new PredictqError('invalid_request', `${field ?? 'body'}: ${issue?.message ?? 'invalid'}`, { details: { field } });
}

export function batchRoutes(deps: { batches: BatchStore; files: FileStore; runner: BatchRunner; checkCallback: CallbackCheck }): Router {
  const { batches, files, runner } = deps;
  const router = Router();

  router.post('/v1/batches', async (req, res) => {
    const parsed = CreateSchema.safeParse(req.body ?? {});
    if (!parsed.success) throw invalid(parsed.error.issues[0]);
    const body = parsed.data;
    const windowS = parseCompletionWindow(body.completion_window);
    if (windowS === undefined) {
      throw new PredictqError('invalid_request', 'completion_window must be "24h" or shorter, such as "1h", "30m" or "90s"', { details: { field: 'completion_window' } });
    }
    if (body.callback_url !== undefined) await deps.checkCallback(req.tenant!, body.callback_url);
    if (body.metadata && Object.keys(body.metadata).length > 16) throw new PredictqError('invalid_request', 'metadata: at most 16 keys', { details: { field: 'metadata' } });
    const file = await files.get(req.tenant!, body.input_file_id);
    if (!file) throw new PredictqError('invalid_request', `input_file_id: no such file ${body.input_file_id}`, { details: { field: 'input_file_id' } });
    if (file.purpose !== 'batch') throw new PredictqError('invalid_request', `input_file_id: the file's purpose is ${file.purpose}, not batch`, { details: { field: 'input_file_id' } });
    const batch = await batches.create({
      tenant: req.tenant!,
      endpoint: body.endpoint,
      inputFileId: file.id,
      completionWindow: body.completion_window,
      windowS,
      metadata: body.metadata ?? undefined,
      callbackUrl: body.callback_url,
    });
    await runner.start(batch);
    res.json(batch);
  });

  router.get('/v1/batches', async (req, res) => {
    const parsed = ListSchema.safeParse(req.query);
    if (!parsed.success) throw invalid(parsed.error.issues[0]);
    const { data, has_more } = await batches.list(req.tenant!, parsed.data);
    res.json({ object: 'list', data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more });
  });

  router.get('/v1/batches/:id', async (req, res) => {
    const batch = await batches.get(req.tenant!, String(req.params.id));
    if (!batch) throw new PredictqError('not_found', `No batch found with id '${req.params.id}'`, { details: { field: 'batch_id' } });
    res.json(batch);
  });

  router.post('/v1/batches/:id/cancel', async (req, res) => {
    const id = String(req.params.id);
    const batch = await batches.get(req.tenant!, id);
    if (!batch) throw new PredictqError('not_found', `No batch found with id '${id}'`, { details: { field: 'batch_id' } });
    if (batch.status !== 'cancelling') {
      const before = await batches.transition(id, ['validating', 'in_progress'], 'cancelling', 'cancelling_at', { ending: 'cancelled' });
      if (before !== 'validating' && before !== 'in_progress') {
        throw new PredictqError('conflict', `Cannot cancel a batch with status ${before ?? batch.status}`, { details: { status: before ?? batch.status } });
      }
    }
    await runner.cancel(id);
    res.json(await batches.get(req.tenant!, id));
  });

  return router;
}
