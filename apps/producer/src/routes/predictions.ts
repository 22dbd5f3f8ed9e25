// /v1/predictions: create (with Idempotency-Key and Prefer: wait), read, cancel.
import { createHash, randomUUID } from 'node:crypto';
import { Router, type Request } from 'express';
import { z } from 'zod';
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
import type { CallbackCheck } from '../callback-check.js';
import type { ExperimentRouting } from '../experiment-routing.js';
import type { BudgetCheck } from '../budget-check.js';
import type { CacheFastPath } from '../cache-fast-path.js';
import type { Cancellations } from '../cancellations.js';
import { cancelRunning } from '../cancel-running.js';
import { predictionFromSnapshot, predictionObject, type PredictionObject } from '../prediction-object.js';
import type { JobSnapshot, PredictionQueues } from '../prediction-queues.js';
import { configProgramRef, parsePredictionRequest, resolvePrediction, unknownProgram } from '../prediction-request.js';
import { parsePreferWait, waitForJob } from '../wait-for-job.js';

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
  recordCacheAnswer?(data: PredictionJobData, answered: PredictionObject): Promise<unknown>;
  /** Saved programs and their versions; without it only the config file's programs resolve. */
  programs?: ProgramStore;
  /** Variant assignment, shadow runs and feedback; without it `experiment` is unknown. */
  experiments?: ExperimentRouting;
  /** Records the one feedback a prediction may get; false when it already had one. */
  feedbackOnce?(id: string, score: number): Promise<boolean>;
}

const FeedbackSchema = z.object({ score: z.number().min(0).max(1) }).strict();

function predictionId(tenant: string, idempotencyKey: string | undefined): string {
  if (idempotencyKey === undefined) return PREDICTION_ID_PREFIX + randomUUID().replaceAll('-', '');
  const digest = createHash('sha256').update(`${tenant}\u0000${idempotencyKey}`).digest('hex').slice(0, 32);
  return PREDICTION_ID_PREFIX + digest;
}

function idempotencyKeyOf(req: Request): string | undefined {
  const key = req.get('idempotency-key');
  if (key === undefined) return undefined;
  if (key.length === 0 || key.length > 255) {
    throw new PredictqError('invalid_request', 'Idempotency-Key must be 1 to 255 characters');
  }
  return key;
}

function disconnectSignal(req: Request): AbortSignal {
  const controller = new AbortController();
  req.on('close', () => controller.abort());
  return controller.signal;
}

export function predictionRoutes(deps: PredictionRoutesDeps): Router {
  const { config, queues, cancellations } = deps;
  const router = Router();

  async function findOwned(id: string, tenant: string): Promise<JobSnapshot | undefined> {
    if (!id.startsWith(PREDICTION_ID_PREFIX) || id.length > 64) return undefined;
    const snapshot = await queues.snapshot(id);
    // A shadow run belongs to no caller.
    return snapshot && snapshot.job.data.tenant === tenant && !snapshot.job.data.shadow ? snapshot : undefined;
  }

  async function lookupProgram(ref: string | undefined): Promise<ResolvedProgram | undefined> {
    if (ref === undefined) return undefined;
    const program = deps.programs ? await deps.programs.resolve(ref) : configProgramRef(config, ref);
    if (!program) throw unknownProgram(config, ref);
    return program;
  }

  /**
   * A cancellation's event. The job is already gone, so a failure here cannot be answered with an
   * error; it is logged (a running job's worker emits the same event itself).
   */
  async function emitCancelled(data: PredictionJobData, cancelled: PredictionObject): Promise<void> {
    try {
      await deps.webhooks?.emit(predictionEvent(data, cancelled));
    } catch (err) {
      deps.logger?.error({ err: { message: (err as Error).message }, prediction_id: cancelled.id }, 'the prediction.cancelled webhook event could not be stored');
    }
  }

  router.post('/v1/predictions', async (req, res) => {
    const tenant = req.tenant!;
    const requestId = res.getHeader('x-request-id') as string;
    const idempotencyKey = idempotencyKeyOf(req);
    const waitSeconds = parsePreferWait(req.get('prefer'), config.http.max_wait_s);
    const request = parsePredictionRequest(req.body);
    if (request.callback_url !== undefined) await deps.checkCallback?.(tenant, request.callback_url);
    const id = predictionId(tenant, idempotencyKey);
    if (request.experiment !== undefined && !deps.experiments) throw new PredictqError('unknown_experiment', `no experiment "${request.experiment}"`);
    const routed = await deps.experiments?.route(request, id);
    const program = await lookupProgram(routed?.choice.program ?? request.program);
    const context = { tenant, requestId, now: deps.clock.now() };
    const resolved = resolvePrediction(config, request, { ...context, program, variant: routed?.choice });
    const { data } = resolved;

    let existing: JobSnapshot | undefined;
    if (idempotencyKey !== undefined) {
      existing = await findOwned(id, tenant);
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
        void deps.recordCacheAnswer?.(data, answered);
        if (routed) void recordAnswered(data, id, answered);
        enqueueShadow();
        return void res.status(200).location(`/v1/predictions/${id}`).json(answered);
      }
    }
    if (!replayed) {
      // A spent budget refuses new work here, before it is queued (a replay is not new work).
      await deps.budgetCheck?.(resolved);
      // BullMQ ignores an add with an existing job id, so racing retries still make one job.
      await queues.add(id, data);
      enqueueShadow();
    }

    // From here the prediction is accepted: whatever Redis does now, the answer is not an error.
    let prediction: PredictionObject;
    try {
      if (waitSeconds > 0) await waitForJob(queues, data.route, id, waitSeconds * 1000, disconnectSignal(req));
      const snapshot = await queues.snapshot(id);
      prediction = snapshot ? predictionFromSnapshot(snapshot) : predictionObject(id, existing?.job.data ?? data, 'queued');
    } catch {
      prediction = predictionObject(id, existing?.job.data ?? data, 'queued');
    }
    const done = prediction.status === 'succeeded' || prediction.status === 'failed';
    if (replayed) res.setHeader('Idempotent-Replayed', 'true');
    res.status(done ? 200 : 202).location(`/v1/predictions/${id}`).json(prediction);
  });

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

  router.post('/v1/predictions/:id/feedback', async (req, res) => {
    const tenant = req.tenant!;
    const id = req.params.id!;
    const parsed = FeedbackSchema.safeParse(req.body ?? {});
    if (!parsed.success) throw new PredictqError('invalid_request', 'send {"score": <a number from 0 to 1>}', { details: { field: 'score' } });
    const { score } = parsed.data;
    let found: { status: string; experiment: string | undefined; variant: string | null } | undefined;
    const snapshot = await findOwned(id, tenant);
    if (snapshot) {
      found = { status: predictionFromSnapshot(snapshot).status, experiment: snapshot.job.data.experiment, variant: snapshot.job.data.variant };
    } else {
      const record = await deps.cacheFastPath?.findRecord(id, tenant);
      if (record) found = { status: record.prediction.status, experiment: record.experiment, variant: record.prediction.variant };
    }
    if (!found) throw new PredictqError('not_found', `no prediction ${id}`);
    if (found.status !== 'succeeded') throw new PredictqError('conflict', `prediction ${id} has not succeeded; only an answer takes feedback`, { details: { status: found.status } });
    if (!deps.feedbackOnce || !(await deps.feedbackOnce(id, score))) {
      throw new PredictqError('conflict', `prediction ${id} already has feedback (one per prediction)`);
    }
    if (found.experiment !== undefined && found.variant !== null) await deps.experiments?.stats.recordFeedback(found.experiment, found.variant, score);
    res.json({ object: 'feedback', prediction_id: id, score, experiment: found.experiment ?? null, variant: found.variant });
  });

  router.get('/v1/predictions/:id', async (req, res) => {
    const tenant = req.tenant!;
    const id = req.params.id!;
    const snapshot = await findOwned(id, tenant);
    if (snapshot) return void res.json(predictionFromSnapshot(snapshot));
    const cancelled = await cancellations.get(id, tenant);
    if (cancelled) return void res.json(cancelled);
    const answered = await deps.cacheFastPath?.find(id, tenant);
    if (answered) return void res.json(answered);
    throw new PredictqError('not_found', `no prediction ${id} (finished predictions are kept for a limited time)`);
  });

  router.delete('/v1/predictions/:id', async (req, res) => {
    const tenant = req.tenant!;
    const id = req.params.id!;
    const snapshot = await findOwned(id, tenant);
    if (!snapshot) {
      const cancelled = await cancellations.get(id, tenant);
      if (cancelled) return void res.json(cancelled);
      throw new PredictqError('not_found', `no prediction ${id}`);
    }
    const { job } = snapshot;
    let state = snapshot.state;
    // A running job is aborted by its worker (its LM call too), then reads as cancelled.
    if (state === 'active' && deps.cancelRunning) {
      const publish = deps.cancelRunning;
      if (await cancelRunning(id, { publish, snapshot: (jobId) => queues.snapshot(jobId) })) {
        const cancelled = predictionObject(id, job.data, 'cancelled', {
          error: { code: 'cancelled', message: 'cancelled by the client while it ran' },
          finishedOn: deps.clock.now(),
        });
        await emitCancelled(job.data, cancelled);
        await cancellations.record(cancelled, tenant);
        return void res.json(cancelled);
      }
      // It finished meanwhile, or went back to wait (removed below).
      state = (await queues.snapshot(id))?.state ?? 'completed';
    }
    if (state !== 'queued') {
      const what = state === 'active' ? 'is already running' : 'has already finished';
      throw new PredictqError('conflict', `prediction ${id} ${what} and cannot be cancelled`, { details: { status: state } });
    }
    if (!(await queues.remove(id, job.data.route))) {
      // A worker locked it between our read and the removal.
      throw new PredictqError('conflict', `prediction ${id} started running and cannot be cancelled`);
    }
    const cancelled = predictionObject(id, job.data, 'cancelled', {
      error: { code: 'cancelled', message: 'cancelled by the client before it started' },
      finishedOn: deps.clock.now(),
    });
    await emitCancelled(job.data, cancelled);
    await cancellations.record(cancelled, tenant);
    res.json(cancelled);
  });

  return router;
}
