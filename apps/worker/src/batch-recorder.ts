// A batch item's final outcome recorded in its batch (once per line, whoever records it) before
// its job finishes, so a batch's output has exactly one line per input line; the last one asks
// a producer to finalize the batch. If the record cannot be written, the job waits and tries
// again (no attempt spent) rather than finishing unrecorded.
import type { Job, Queue } from 'bullmq';
import {
  BATCH_JOBS,
  WaitError,
  predictionObject,
  type BatchStore,
  type ChatJobData,
  type ChatResult,
  type Clock,
  type ItemResult,
  type Outcome,
  type PredictionJobData,
  type PredictionResult,
} from '@predictq/core';

type ItemJobData = (PredictionJobData | ChatJobData) & { batch?: { id: string; line: number; custom_id: string } };
type Result = PredictionResult | ChatResult;

const RETRY_MS = 1000;

function itemResult(job: Job, data: ItemJobData & { batch: NonNullable<ItemJobData['batch']> }, outcome: Outcome<Result>): ItemResult {
  const { custom_id } = data.batch;
  if (outcome.kind === 'ok') {
    const result = outcome.result;
    const body =
      'completion' in result
        ? { ...result.completion, predictq: { cost_usd: result.cost_usd, cache: result.cache.level ?? 'miss' } }
        : predictionObject(job.id ?? '', data as PredictionJobData, 'succeeded', { result });
    return { ok: true, custom_id, request_id: data.request_id, body };
  }
  const error = outcome.kind === 'fail' ? outcome.error : undefined;
  // Past the batch's window it never ran: a batch-level error, as OpenAI reports expired requests.
  if (error?.code === 'deadline_exceeded') return { ok: false, custom_id, request_id: null, code: 'batch_expired', message: error.message };
  return { ok: false, custom_id, request_id: data.request_id, code: error?.code ?? 'internal_error', message: error?.message ?? 'the request failed' };
}

export function createBatchRecorder(deps: { batches: BatchStore; queue: Queue; clock: Clock }) {
  return async <R extends Result>(job: Job, outcome: Outcome<R>): Promise<Outcome<R>> => {
    const data = job.data as ItemJobData;
    if (!data?.batch || (outcome.kind !== 'ok' && outcome.kind !== 'fail')) return outcome;
    const batch = data.batch;
    const cost = outcome.kind === 'ok' ? (outcome.result.cost_micros ?? 0) : 0;
    try {
      const { last } = await deps.batches.record(batch.id, batch.line, itemResult(job, { ...data, batch }, outcome), cost);
      if (last) await deps.queue.add(BATCH_JOBS.finalize, { batch: batch.id }, { jobId: `${BATCH_JOBS.finalize}_${batch.id}` });
      return outcome;
    } catch (err) {
      const error = new WaitError('service_unavailable', 'the batch result could not be recorded', RETRY_MS, 'redis', { cause: err });
      return { kind: 'wait', until: deps.clock.now() + RETRY_MS, reason: 'redis', error };
    }
  };
}
