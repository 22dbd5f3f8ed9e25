// Queue names and prefixes. The prefix is hash-tagged so all of a queue's keys land in one
// Redis Cluster slot, as BullMQ requires.

export function queuePrefix(keyPrefix: string): string {
  return `{${keyPrefix}}`;
}

export function predictionQueueName(route: string): string {
  return `predict.${route}`;
}

export const PREDICTION_ID_PREFIX = 'pred_';

/** BullMQ job names on a route's queue: what the worker runs the job as. */
export const JOB_NAMES = { predict: 'predict', chat: 'chat' } as const;

/** The queue of batch bookkeeping (ingest, expiry, cancel, finalize), run by the producers. */
export const BATCH_QUEUE = 'batches';
export const BATCH_JOBS = { ingest: 'ingest', expire: 'expire', cancel: 'cancel', finalize: 'finalize' } as const;

/** The job id of line `line` of a batch: derived, so a resumed ingest never enqueues it twice. */
export function batchItemJobId(batchId: string, line: number): string {
  return `${batchId}_${line}`;
}
