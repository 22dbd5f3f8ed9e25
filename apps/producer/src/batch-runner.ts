// Runs batches for the producers: their bookkeeping jobs (ingest, expiry at the end of the
// window, cancel, finalize) on one BullMQ queue that every producer works, so a producer that
// dies mid-ingest is replaced by another (its job stalls and runs again; the ingest resumes).
// Finalizing writes the output and error files, one line per input line, in line order.
import { Queue, Worker, type Job } from 'bullmq';
import {
  BATCH_JOBS,
  BATCH_QUEUE,
  batchItemJobId,
  queuePrefix,
  type BatchEndpoint,
  type BatchObject,
  type BatchStatus,
  type Clock,
  type ErrorCode,
  type ItemResult,
  type Logger,
  PredictqError,
  type RedisConnection,
} from '@predictq/core';
import { enqueueBatch, validateBatch, type IngestBatch, type IngestDeps } from './batch-ingest.js';
import { jsonlLines } from './jsonl-lines.js';
import { HTTP_STATUS } from './http-errors.js';
import { OPENAI_ERRORS, openAIErrorBody } from './openai-errors.js';

const SWEEP_CHUNK = 500;

export interface BatchRunnerDeps extends IngestDeps {
  /** A connection that waits out Redis outages (BullMQ's workers need one). */
  connection: RedisConnection;
  logger: Logger;
  clock: Clock;
  /** Told when a batch reaches a final status (its webhook event); told again if finalizing runs again. */
  onFinished?(tenant: string, batch: BatchObject): Promise<void>;
}

/** How a batch ended, besides completing: set when its window passed or it was cancelled. */
type Ending = 'expired' | 'cancelled';

function ingestOf(id: string, h: Record<string, string>): IngestBatch {
  return { id, tenant: h.tenant!, endpoint: h.endpoint as BatchEndpoint, inputFileId: h.input_file_id!, expiresAt: Number(h.expires_at) * 1000 };
}

/** One result as a line of the output (ok) or error file, in OpenAI's batch output format. */
export function outputLine(batchId: string, line: number, endpoint: BatchEndpoint, result: ItemResult): string {
  const id = `batch_req_${batchId.slice('batch_'.length)}_${line}`;
  if (result.ok) {
    return JSON.stringify({ id, custom_id: result.custom_id, response: { status_code: 200, request_id: result.request_id, body: result.body }, error: null });
  }
  if (result.request_id === null) {
    // It never ran (expired, cancelled): a batch-level error, no response.
    return JSON.stringify({ id, custom_id: result.custom_id, response: null, error: { code: result.code, message: result.message } });
  }
  const error = new PredictqError((result.code in HTTP_STATUS ? result.code : 'internal_error') as ErrorCode, result.message);
  const response =
    endpoint === '/v1/chat/completions'
      ? { status_code: OPENAI_ERRORS[error.code].status, request_id: result.request_id, body: openAIErrorBody(error) }
      : { status_code: HTTP_STATUS[error.code], request_id: result.request_id, body: { error: error.toJSON() } };
  return JSON.stringify({ id, custom_id: result.custom_id, response, error: null });
}

export class BatchRunner {
  readonly queue: Queue;
  readonly #worker: Worker;
  readonly #deps: BatchRunnerDeps;

  constructor(deps: BatchRunnerDeps) {
    this.#deps = deps;
    const options = { connection: deps.connection, prefix: queuePrefix(deps.config.key_prefix) };
    this.queue = new Queue(BATCH_QUEUE, {
      ...options,
      defaultJobOptions: { attempts: 5, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: { age: 86_400, count: 1000 }, removeOnFail: { age: 7 * 86_400, count: 1000 } },
    });
    this.queue.on('error', () => {});
    this.#worker = new Worker(BATCH_QUEUE, (job) => this.#run(job), {
      ...options,
      concurrency: deps.config.batches.concurrency,
      lockDuration: deps.config.queue.lock_duration_ms,
      stalledInterval: deps.config.queue.stalled_interval_ms,
    });
    this.#worker.on('error', (err) => deps.logger.warn({ err: { message: err.message } }, 'batch worker error'));
    this.#worker.on('failed', (job, err) => deps.logger.warn({ batch: job?.data?.batch, job: job?.name, err: { message: err.message } }, 'batch step failed'));
  }

  /** A new batch: ingest now, expire at the end of its window. */
  async start(batch: BatchObject): Promise<void> {
    const data = { batch: batch.id };
    await this.queue.add(BATCH_JOBS.ingest, data, { jobId: `${BATCH_JOBS.ingest}_${batch.id}` });
    await this.queue.add(BATCH_JOBS.expire, data, { jobId: `${BATCH_JOBS.expire}_${batch.id}`, delay: Math.max(0, batch.expires_at * 1000 - this.#deps.clock.now()) });
  }

  async cancel(id: string): Promise<void> {
    await this.queue.add(BATCH_JOBS.cancel, { batch: id }, { jobId: `${BATCH_JOBS.cancel}_${id}` });
  }

  async #run(job: Job<{ batch: string }>): Promise<void> {
    const id = job.data.batch;
    const hash = await this.#deps.batches.raw(id);
    if (!hash) return;
    switch (job.name) {
      case BATCH_JOBS.ingest:
        return this.#ingest(id, hash);
      case BATCH_JOBS.expire:
        return this.#end(id, 'expired', 'batch_expired', 'the batch window ended before this request ran');
      case BATCH_JOBS.cancel:
        return this.#end(id, 'cancelled', 'batch_cancelled', 'the batch was cancelled before this request ran');
      case BATCH_JOBS.finalize:
        return this.#finalize(id);
    }
  }

  async #ingest(id: string, hash: Record<string, string>): Promise<void> {
    const { batches, logger, clock } = this.#deps;
    const batch = ingestOf(id, hash);
    const now = Number(hash.created_at) * 1000;
    if (hash.status === 'validating') {
      const { errors, total } = await validateBatch(this.#deps, batch, now);
      if (errors.length > 0) {
        await batches.failValidation(id, errors);
        logger.info({ batch: id, errors: errors.length }, 'batch failed validation');
        return this.#finished(id);
      }
      await batches.set(id, { total });
      if ((await batches.transition(id, ['validating'], 'in_progress', 'in_progress_at')) !== 'validating') return;
    } else if (hash.status !== 'in_progress') {
      return;
    }
    const started = clock.now();
    const lines = await enqueueBatch(this.#deps, batch, now, {
      resumed: hash.status === 'in_progress',
      onProgress: async (done) => {
        // Cancelled or ended meanwhile: what is left is not needed.
        if ((await batches.progress(id, done)) !== 'in_progress') throw new IngestStopped();
      },
    }).catch((err: unknown) => {
      if (err instanceof IngestStopped) return -1;
      throw err;
    });
    if (lines >= 0) logger.info({ batch: id, lines, ms: clock.now() - started }, 'batch ingested');
    await this.#maybeFinalize(id);
  }

  /** The window passed or the batch was cancelled: lines without a result yet get one, unless running. */
  async #end(id: string, ending: Ending, code: string, message: string): Promise<void> {
    const { batches, queues, files, config } = this.#deps;
    const to: BatchStatus = ending === 'cancelled' ? 'cancelling' : 'in_progress';
    const before = await batches.transition(id, ['validating', 'in_progress', 'cancelling'], to, ending === 'cancelled' ? 'cancelling_at' : undefined, { ending });
    if (before !== 'validating' && before !== 'in_progress' && before !== 'cancelling') return;
    const hash = (await batches.raw(id))!;
    const total = Number(hash.total ?? 0);
    const never = new Set<number>();
    const fail = (line: number, customId: string) => batches.record(id, line, { ok: false, custom_id: customId, request_id: null, code, message });
    for (let from = 1; from <= total; from += SWEEP_CHUNK) {
      const results = await batches.results(id, from, Math.min(total + 1, from + SWEEP_CHUNK));
      await Promise.all(
        results.map(async (result, i) => {
          if (result) return;
          const line = from + i;
          const jobId = batchItemJobId(id, line);
          const snapshot = await queues.snapshot<{ route: string; batch?: { custom_id: string } }>(jobId);
          if (!snapshot) return void never.add(line);
          // A running (or finishing) item records itself; a queued one is taken back.
          if (snapshot.state !== 'queued' || !(await queues.remove(jobId, snapshot.job.data.route))) return;
          await fail(line, snapshot.job.data.batch?.custom_id ?? '');
        }),
      );
    }
    // Lines that never became jobs (the ingest had not reached them): their custom_ids, in one read.
    const content = never.size > 0 ? await files.content(hash.tenant!, hash.input_file_id!) : undefined;
    if (content) {
      for await (const entry of jsonlLines(content, config.batches.max_line_bytes)) {
        if (!never.delete(entry.number)) continue;
        let customId = '';
        try {
          customId = String((JSON.parse(entry.text) as { custom_id?: unknown }).custom_id ?? '');
        } catch {
          // validated before, so never here
        }
        await fail(entry.number, customId);
        if (never.size === 0) break;
      }
    }
    await this.#maybeFinalize(id);
  }

  async #maybeFinalize(id: string): Promise<void> {
    const hash = await this.#deps.batches.raw(id);
    if (!hash) return;
    const total = Number(hash.total ?? 0);
    if (Number(hash.completed ?? 0) + Number(hash.failed ?? 0) >= total) {
      await this.queue.add(BATCH_JOBS.finalize, { batch: id }, { jobId: `${BATCH_JOBS.finalize}_${id}` });
    }
  }

  async #finalize(id: string): Promise<void> {
    const { batches, files } = this.#deps;
    const before = await batches.transition(id, ['in_progress', 'cancelling', 'finalizing'], 'finalizing', 'finalizing_at');
    // Already ended (this step runs again after a failure): only the event may be missing.
    if (before === 'completed' || before === 'expired' || before === 'cancelled' || before === 'failed') return this.#finished(id);
    if (before !== 'in_progress' && before !== 'cancelling' && before !== 'finalizing') return;
    const hash = (await batches.raw(id))!;
    const tenant = hash.tenant!;
    const endpoint = hash.endpoint as BatchEndpoint;
    const total = Number(hash.total ?? 0);
    const output = files.writer(tenant, { filename: `${id}_output.jsonl`, purpose: 'batch_output' });
    const errors = files.writer(tenant, { filename: `${id}_errors.jsonl`, purpose: 'batch_output' });
    let outputs = 0;
    let failures = 0;
    for (let from = 1; from <= total; from += SWEEP_CHUNK) {
      const results = await batches.results(id, from, Math.min(total + 1, from + SWEEP_CHUNK));
      const ok: string[] = [];
      const bad: string[] = [];
      results.forEach((result, i) => {
        const entry = result ?? { ok: false as const, custom_id: '', request_id: null, code: 'internal_error', message: 'the request has no result' };
        (entry.ok ? ok : bad).push(outputLine(id, from + i, endpoint, entry));
      });
      if (ok.length) await output.write(Buffer.from(`${ok.join('\n')}\n`));
      if (bad.length) await errors.write(Buffer.from(`${bad.join('\n')}\n`));
      outputs += ok.length;
      failures += bad.length;
    }
    const outputFile = outputs > 0 ? (await output.finish()).id : (await output.abort(), '');
    const errorFile = failures > 0 ? (await errors.finish()).id : (await errors.abort(), '');
    const ending = hash.ending as Ending | undefined;
    const final: BatchStatus = ending === 'cancelled' ? 'cancelled' : ending === 'expired' ? 'expired' : 'completed';
    await batches.transition(id, ['finalizing'], final, `${final}_at`, { output_file_id: outputFile, error_file_id: errorFile });
    await batches.finish(id);
    await this.#finished(id);
  }

  async #finished(id: string): Promise<void> {
    const hash = await this.#deps.batches.raw(id);
    const batch = hash && (await this.#deps.batches.get(hash.tenant!, id));
    if (batch) await this.#deps.onFinished?.(hash.tenant!, batch);
  }

  async close(): Promise<void> {
    await this.#worker.close();
    await this.queue.close();
  }
}

class IngestStopped extends Error {}
