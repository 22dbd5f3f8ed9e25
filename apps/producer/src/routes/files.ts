// OpenAI's files API (purpose "batch"): uploads are multipart, parsed as a stream (busboy) and
// written to the file store chunk by chunk, so a large upload never sits whole in memory; files
// are the tenant's own and visible from every producer replica.
import busboy from 'busboy';
import { Router, type Request } from 'express';
import { z } from 'zod';
import { PredictqError, type FileObject, type FileStore } from '@predictq/core';

const PURPOSES = new Set(['batch']);

const ListQuerySchema = z
  .object({
    purpose: z.string().max(64).optional(),
    limit: z.coerce.number().int().min(1).max(10_000).default(10_000),
    after: z.string().max(64).optional(),
    order: z.enum(['asc', 'desc']).default('desc'),
  })
  .strict();

function upload(req: Request, store: FileStore, tenant: string): Promise<FileObject> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: req.headers, limits: { files: 1, fields: 10, fileSize: store.maxBytes + 1, fieldSize: 1024 } });
    } catch {
      return reject(new PredictqError('unsupported_media_type', 'send the file as multipart/form-data with fields "file" and "purpose"'));
    }
    const fields: Record<string, string> = {};
    let written: Promise<{ writer: ReturnType<FileStore['writer']>; filename: string }> | undefined;
    parser.on('field', (name, value) => {
      fields[name] = value;
    });
    parser.on('file', (name, stream, info) => {
      if (name !== 'file' || written) {
        stream.resume();
        return;
      }
      // The purpose may come after the file: the file is written under a placeholder and the
      // purpose checked once the whole form is read.
      const writer = store.writer(tenant, { filename: info.filename || 'upload.jsonl', purpose: 'batch' });
      written = (async () => {
        try {
          for await (const chunk of stream as AsyncIterable<Buffer>) await writer.write(chunk);
        } catch (err) {
          stream.resume();
          await writer.abort().catch(() => undefined);
          throw err;
        }
        return { writer, filename: info.filename || 'upload.jsonl' };
      })();
      written.catch(() => undefined);
    });
    parser.on('error', () => reject(new PredictqError('invalid_request', 'the multipart body could not be read')));
    parser.on('close', () => {
      void (async () => {
        if (!written) throw new PredictqError('invalid_request', 'send the file in a multipart field named "file"', { details: { field: 'file' } });
        const { writer } = await written;
        const purpose = fields.purpose;
        if (purpose === undefined || !PURPOSES.has(purpose)) {
          await writer.abort();
          throw new PredictqError('invalid_request', `purpose must be "batch", got ${purpose === undefined ? 'none' : JSON.stringify(purpose)}`, {
            details: { field: 'purpose' },
          });
        }
        return writer.finish();
      })().then(resolve, reject);
    });
    req.pipe(parser);
  });
}

export function fileRoutes(deps: { files: FileStore }): Router {
  const { files } = deps;
  const router = Router();

  router.post('/v1/files', async (req, res) => {
    res.json(await upload(req, files, req.tenant!));
  });

  router.get('/v1/files', async (req, res) => {
    const parsed = ListQuerySchema.safeParse(req.query);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new PredictqError('invalid_request', `${issue?.path.join('.') || 'query'}: ${issue?.message ?? 'invalid'}`, { details: { field: issue?.path.join('.') ?? null } });
    }
    const { data, has_more } = await files.list(req.tenant!, parsed.data);
    res.json({ object: 'list', data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more });
  });

  router.get('/v1/files/:id', async (req, res) => {
    const file = await files.get(req.tenant!, String(req.params.id));
    if (!file) throw new PredictqError('not_found', `No such File object: ${req.params.id}`, { details: { field: 'id' } });
    res.json(file);
  });

  router.get('/v1/files/:id/content', async (req, res) => {
    const content = await files.content(req.tenant!, String(req.params.id));
    if (!content) throw new PredictqError('not_found', `No such File object: ${req.params.id}`, { details: { field: 'id' } });
    res.status(200).type('application/octet-stream');
    for await (const chunk of content) {
      if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve));
    }
    res.end();
  });

  router.delete('/v1/files/:id', async (req, res) => {
    const id = String(req.params.id);
    if (!(await files.delete(req.tenant!, id))) throw new PredictqError('not_found', `No such File object: ${id}`, { details: { field: 'id' } });
    res.json({ id, object: 'file', deleted: true });
  });

  return router;
}
