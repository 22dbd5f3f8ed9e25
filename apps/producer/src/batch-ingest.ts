// A batch's input file, read twice as a stream: first every line is checked as OpenAI checks it
// (JSON, custom_id present and unique, POST to the batch's endpoint, a body its endpoint would
// accept) and nothing is enqueued unless all pass; then the lines become jobs, a chunk at a time
// (addBulk), at batch priority, with ids derived from the batch and line, so an ingest that is
// run again (its producer died) skips what exists and enqueues nothing twice.
import { z } from 'zod';
import {
  PRIORITY,
  PredictqError,
  batchItemJobId,
  type BatchEndpoint,
  type BatchLineError,
  type BatchStore,
  type ChatJobData,
  type Config,
  type CostTracker,
  type FileStore,
  type PredictionJobData,
  type ProgramStore,
} from '@predictq/core';
import { parseChatRequest } from './chat-request.js';
import { jsonlLines, LineTooLongError } from './jsonl-lines.js';
import { configProgramRef, parsePredictionRequest, resolvePrediction, unknownProgram } from './prediction-request.js';
import type { PredictionQueues } from './prediction-queues.js';

/** Line errors reported (OpenAI lists the first ones). */
const MAX_ERRORS = 100;
/** Jobs added per round trip. */
const CHUNK = 500;

const LineSchema = z
  .object({
    custom_id: z.string().min(1).max(512),
    method: z.string(),
    url: z.string(),
    body: z.record(z.string(), z.unknown()),
  })
  .strict();

export interface IngestDeps {
  config: Config;
  files: FileStore;
  batches: BatchStore;
  queues: PredictionQueues;
  cost: CostTracker;
  /** Saved programs (a line may name one, or pin a version); without it only the config's resolve. */
  programs?: ProgramStore | undefined;
}

export interface IngestBatch {
  id: string;
  tenant: string;
  endpoint: BatchEndpoint;
  inputFileId: string;
  /** When the batch's window ends (ms): every item's deadline. */
  expiresAt: number;
}

type ItemData = (PredictionJobData | ChatJobData) & { batch: { id: string; line: number; custom_id: string } };

function lineError(line: number, err: unknown, code = 'invalid_request'): BatchLineError {
  const known = err instanceof PredictqError;
  const field = known ? err.details?.field : undefined;
  return {
    code: known && err.code !== 'invalid_request' ? err.code : code,
    message: known ? err.message : 'the line could not be read',
    param: typeof field === 'string' ? `body.${field}` : null,
    line,
  };
}

/** One line as the job its endpoint makes of it; throws a BatchLineError. */
async function itemOf(deps: IngestDeps, batch: IngestBatch, number: number, text: string, now: number): Promise<ItemData> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw { code: 'invalid_json_line', message: 'the line is not valid JSON', param: null, line: number } satisfies BatchLineError;
  }
  const parsed = LineSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join('.') ?? '';
    const code = field === 'custom_id' ? 'missing_custom_id' : 'invalid_request';
    throw { code, message: `${field || 'line'}: ${issue?.message ?? 'invalid'}`, param: field || null, line: number } satisfies BatchLineError;
  }
  const { custom_id, method, url, body } = parsed.data;
  if (method !== 'POST') throw { code: 'invalid_method', message: `method must be POST, got ${method}`, param: 'method', line: number } satisfies BatchLineError;
  if (url !== batch.endpoint) {
    throw { code: 'mismatched_url', message: `url must be the batch's endpoint ${batch.endpoint}, got ${url}`, param: 'url', line: number } satisfies BatchLineError;
  }
  const requestId = batchItemJobId(batch.id, number);
  const item = { priority: 'batch' as const, deadline_at: batch.expiresAt, batch: { id: batch.id, line: number, custom_id } };
  try {
    if (batch.endpoint === '/v1/chat/completions') {
      if (body.stream === true) throw new PredictqError('invalid_request', 'stream: a batch answers whole; leave stream out', { details: { field: 'stream' } });
      const { data } = parseChatRequest(deps.config, body, { tenant: batch.tenant, requestId, now, cache: 'default', budgeted: deps.cost.budgets.applies(batch.tenant) });
      return { ...data, ...item };
    }
    if ('callback_url' in body) throw new PredictqError('invalid_request', 'callback_url: set it on the batch, not on its lines', { details: { field: 'callback_url' } });
    if ('experiment' in body) throw new PredictqError('invalid_request', 'experiment: batch lines run their program as named, outside experiments', { details: { field: 'experiment' } });
    const request = parsePredictionRequest(body);
    const program = request.program === undefined ? undefined : await (deps.programs ? deps.programs.resolve(request.program) : configProgramRef(deps.config, request.program));
    if (request.program !== undefined && !program) throw unknownProgram(deps.config, request.program);
    const { data } = resolvePrediction(deps.config, request, { tenant: batch.tenant, requestId, now, program });
    return { ...data, ...item };
  } catch (err) {
    throw lineError(number, err);
  }
}

async function* lines(deps: IngestDeps, batch: IngestBatch) {
  const content = await deps.files.content(batch.tenant, batch.inputFileId);
  if (!content) throw { code: 'invalid_file', message: `the input file ${batch.inputFileId} no longer exists`, param: 'input_file_id', line: null } satisfies BatchLineError;
  yield* jsonlLines(content, deps.config.batches.max_line_bytes);
}

/** Checks every line; the errors found (the first MAX_ERRORS) and how many requests there are. */
export async function validateBatch(deps: IngestDeps, batch: IngestBatch, now: number): Promise<{ errors: BatchLineError[]; total: number }> {
  const errors: BatchLineError[] = [];
  const seen = new Set<string>();
  let total = 0;
  const { max_lines: maxLines } = deps.config.batches;
  try {
    for await (const { number, text } of lines(deps, batch)) {
      total += 1;
      if (total > maxLines) {
        errors.push({ code: 'too_many_lines', message: `a batch holds at most ${maxLines} requests`, param: null, line: number });
        break;
      }
      try {
        const item = await itemOf(deps, batch, number, text, now);
        if (seen.has(item.batch.custom_id)) {
          throw { code: 'duplicate_custom_id', message: `custom_id ${JSON.stringify(item.batch.custom_id)} is used by an earlier line`, param: 'custom_id', line: number } satisfies BatchLineError;
        }
        seen.add(item.batch.custom_id);
      } catch (err) {
        if (errors.length < MAX_ERRORS) errors.push(err as BatchLineError);
      }
    }
  } catch (err) {
    if (err instanceof LineTooLongError) errors.push({ code: 'line_too_long', message: err.message, param: null, line: err.line });
    else if ((err as BatchLineError).code) errors.push(err as BatchLineError);
    else throw err;
  }
  if (total === 0 && errors.length === 0) errors.push({ code: 'empty_file', message: 'the input file holds no requests', param: 'input_file_id', line: null });
  return { errors, total };
}

/**
 * Enqueues every line that has no job and no result yet, a chunk at a time with one more chunk
 * read while the last is being added; returns how many lines were looked at. `resumed`: an
 * earlier ingest may have got part of the way (and items may have finished since).
 */
export async function enqueueBatch(
  deps: IngestDeps,
  batch: IngestBatch,
  now: number,
  options: { resumed: boolean; onProgress(lines: number): Promise<void> },
): Promise<number> {
  let chunk: ItemData[] = [];
  let done = 0;
  let inFlight: Promise<void> = Promise.resolve();
  const add = async (items: ItemData[]) => {
    let pending = items;
    if (options.resumed) {
      const first = items[0]!.batch.line;
      const recorded = await deps.batches.results(batch.id, first, items.at(-1)!.batch.line + 1);
      pending = items.filter((item) => recorded[item.batch.line - first] === undefined);
    }
    await deps.queues.addBulk(pending.map((data) => ({ data, jobId: batchItemJobId(batch.id, data.batch.line), priority: PRIORITY.batch })));
    done += items.length;
    await options.onProgress(done);
  };
  const flush = async () => {
    if (chunk.length === 0) return;
    const items = chunk;
    chunk = [];
    await inFlight;
    inFlight = add(items);
  };
  for await (const { number, text } of lines(deps, batch)) {
    chunk.push(await itemOf(deps, batch, number, text, now));
    if (chunk.length >= CHUNK) await flush();
  }
  await flush();
  await inFlight;
  return done;
}
