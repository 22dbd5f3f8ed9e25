// POST /v1/predictions as a function of the request's parts: validate, resolve, answer from L2
// or enqueue (Idempotency-Key makes the job id), wait when asked. It knows nothing of express,
// so the prediction lane serves it straight from node's HTTP server.
import { createHash, randomUUID } from 'node:crypto';
import {
  PREDICTION_ID_PREFIX,
  PredictqError,
  predictionEvent,
  shadowIdOf,
  type Clock,
  type Config,
  type Logger,
  type PredictionJobData,
  type ProgramStore,
  type ResolvedProgram,
  type WebhookEmitter,
} from '@predictq/core';
import type { BudgetCheck } from './budget-check.js';
import type { CacheFastPath } from './cache-fast-path.js';
import type { CallbackCheck } from './callback-check.js';
import type { Cancellations } from './cancellations.js';
import type { ExperimentRouting } from './experiment-routing.js';
import { predictionObject, type PredictionObject } from './prediction-object.js';
import type { JobSnapshot, PredictionQueues } from './prediction-queues.js';
import { configProgramRef, parsePredictionRequest, resolvePrediction, unknownProgram } from './prediction-request.js';
import { listenForCompletion, parsePreferWait, waitForPrediction, type CompletionListener } from './wait-for-job.js';

export interface PredictionRoutesDeps {
  config: Config;
  queues: PredictionQueues;
  cancellations: Cancellations;
  clock: Clock;
  /** Answers L2 hits without a job. */
  cacheFastPath?: CacheFastPath | undefined;
  /** Asks the workers to abort a running job (CancelChannel); without it running jobs cannot be cancelled. */
  cancelRunning?(jobId: string): Promise<unknown>;
  /** Throws budget_exceeded (402) when the tenant's budget cannot take the request. */
  budgetCheck?: BudgetCheck;
  /** Creates the webhook events the producer sees: fast-path answers and cancellations. */
  webhooks?: Pick<WebhookEmitter, 'emit'>;
  /** Refuses a callback_url that may not be called (400 callback_url_not_allowed). */
  checkCallback?: CallbackCheck;
  logger?: Logger;
  /** Counts what a fast-path cache answer saved (tokens and USD). */
  recordCacheAnswer?(data: PredictionJobData, answered: PredictionObject): void;
  /** Saved programs and their versions; without it only the config file's programs resolve. */
  programs?: ProgramStore;
  /** Variant assignment, shadow runs and feedback; without it `experiment` is unknown. */
  experiments?: ExperimentRouting;
  /** Records the one feedback a prediction may get; false when it already had one. */
  feedbackOnce?(id: string, score: number): Promise<boolean>;
}

export interface PredictionCall {
  tenant: string;
  requestId: string;
  /** The Idempotency-Key header, as sent. */
  idempotencyKey: string | undefined;
  /** The Prefer header, as sent. */
  prefer: string | undefined;
  body: unknown;
  /** Aborts a wait when the client goes away. Only a request that waits calls it: an answer at once needs no signal. */
  disconnected(): AbortSignal;
}

export interface PredictionReply {
  status: 200 | 202;
  headers: Record<string, string>;
  body: PredictionObject;
}

function predictionId(tenant: string, idempotencyKey: string | undefined): string {
  if (idempotencyKey === undefined) return PREDICTION_ID_PREFIX + randomUUID().replaceAll('-', '');
  const digest = createHash('sha256').update(`${tenant}\u0000${idempotencyKey}`).digest('hex').slice(0, 32);
  return PREDICTION_ID_PREFIX + digest;
}

function checkIdempotencyKey(key: string | undefined): string | undefined {
  if (key === undefined) return undefined;
  if (key.length === 0 || key.length > 255) {
    throw new PredictqError('invalid_request', 'Idempotency-Key must be 1 to 255 characters');
  }
  return key;
}

/** A tenant's own prediction job; a shadow run belongs to no caller. */
export async function findOwned(queues: PredictionQueues, id: string, tenant: string): Promise<JobSnapshot | undefined> {
  if (!id.startsWith(PREDICTION_ID_PREFIX) || id.length > 64) return undefined;
  const snapshot = await queues.snapshot(id);
  return snapshot && snapshot.job.data.tenant === tenant && !snapshot.job.data.shadow ? snapshot : undefined;
}

export function predictionCreator(deps: PredictionRoutesDeps): (call: PredictionCall) => Promise<PredictionReply> {
  const { config, queues } = deps;

  async function lookupProgram(ref: string | undefined): Promise<ResolvedProgram | undefined> {
    if (ref === undefined) return undefined;
    const program = deps.programs ? await deps.programs.resolve(ref) : configProgramRef(config, ref);
    if (!program) throw unknownProgram(config, ref);
    return program;
  }

  /** A fast-path answer is an experiment's prediction too: counted, and paired with its shadow. */
  async function recordAnswered(data: PredictionJobData, id: string, answered: PredictionObject): Promise<void> {
    const { stats } = deps.experiments!;
    try {
      await stats.record(data.experiment!, data.variant!, { kind: 'ok', degraded: false, cacheHit: true, costMicros: 0, latencyMs: answered.duration_ms ?? 0 });
      if (data.shadow_id) await stats.pair(data.experiment!, id, 'control', answered.outputs);
    } catch (err) {
      deps.logger?.warn({ err: { message: (err as Error).message } }, 'experiment statistics not recorded');
    }
  }

  return async ({ tenant, requestId, body, ...call }): Promise<PredictionReply> => {
    const idempotencyKey = checkIdempotencyKey(call.idempotencyKey);
    const waitSeconds = parsePreferWait(call.prefer, config.http.max_wait_s);
    const request = parsePredictionRequest(body);
    if (request.callback_url !== undefined) await deps.checkCallback?.(tenant, request.callback_url);
    const id = predictionId(tenant, idempotencyKey);
    if (request.experiment !== undefined && !deps.experiments) throw new PredictqError('unknown_experiment', `no experiment "${request.experiment}"`);
    const routed = await deps.experiments?.route(request, id);
    const program = await lookupProgram(routed?.choice.program ?? request.program);
    const context = { tenant, requestId, now: deps.clock.now() };
    const resolved = resolvePrediction(config, request, { ...context, program, variant: routed?.choice, idempotent: idempotencyKey !== undefined });
    const { data } = resolved;
    const location = `/v1/predictions/${id}`;

    let existing: JobSnapshot | undefined;
    if (idempotencyKey !== undefined) {
      existing = await findOwned(queues, id, tenant);
      if (existing && existing.job.data.request_hash !== data.request_hash) {
        throw new PredictqError('conflict', 'this Idempotency-Key was used with a different request body');
      }
    }
    const replayed = existing !== undefined;
    const shadow = routed && !replayed ? await deps.experiments!.shadowOf(routed, request, resolved, id, lookupProgram, context) : undefined;
    // The caller never waits for its shadow: it is queued in the background, at low priority.
    const enqueueShadow = () => {
      if (shadow) void queues.add(shadowIdOf(id), shadow).catch((err: Error) => deps.logger?.warn({ err: { message: err.message } }, 'shadow run not queued'));
    };
    // An answer already in L2 needs no job (and costs nothing, so it comes before the budget check).
    if (!replayed && deps.cacheFastPath) {
      const answered = await deps.cacheFastPath.answer(id, resolved, deps.clock);
      if (answered) {
        // The event exists before the answer is given (a failure here is a 503: retry the request).
        if (data.callback_url !== undefined) await deps.webhooks?.emit(predictionEvent(data, answered));
        deps.recordCacheAnswer?.(data, answered);
        if (routed) void recordAnswered(data, id, answered);
        enqueueShadow();
        return { status: 200, headers: { location }, body: answered };
      }
    }
    let listening: CompletionListener | undefined;
    if (!replayed) {
      // A spent budget refuses new work here, before it is queued (a replay is not new work).
      await deps.budgetCheck?.(resolved);
      // Listening before the job exists, a wait cannot miss its end (and need not ask whether it came first).
      if (waitSeconds > 0) listening = await listenForCompletion(queues, data.route, id);
      try {
        // BullMQ ignores an add with an existing job id, so racing retries still make one job.
        await queues.add(id, data);
      } catch (err) {
        listening?.stop();
        throw err;
      }
      enqueueShadow();
    }

    // From here the prediction is accepted: whatever Redis does now, the answer is not an error.
    const jobData = existing?.job.data ?? data;
    const queued = () => predictionObject(id, jobData, 'queued');
    let prediction: PredictionObject;
    try {
      const signal = waitSeconds > 0 ? call.disconnected() : undefined;
      prediction = (await waitForPrediction(queues, id, jobData, waitSeconds * 1000, signal, listening)) ?? queued();
    } catch {
      prediction = queued();
    }
    const done = prediction.status === 'succeeded' || prediction.status === 'failed';
    const headers: Record<string, string> = { location };
    if (replayed) headers['idempotent-replayed'] = 'true';
    return { status: done ? 200 : 202, headers, body: prediction };
  };
}
