// /v1/predictions: create (with Idempotency-Key and Prefer: wait), read, cancel.
import { createHash, randomUUID } from 'node:crypto';
import { Router, type Request } from 'express';
import { PREDICTION_ID_PREFIX, PredictqError, type Clock, type Config, type PredictionJobData, type ProgramStore, type ResolvedProgram } from '@predictq/core';
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
  /** Counts what a fast-path cache answer saved (tokens and USD). */
  recordCacheAnswer?(data: PredictionJobData, answered: PredictionObject): Promise<unknown>;
  /** Saved programs and their versions; without it only the config file's programs resolve. */
  programs?: ProgramStore;
}

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
    return snapshot && snapshot.job.data.tenant === tenant ? snapshot : undefined;
  }

  async function lookupProgram(ref: string | undefined): Promise<ResolvedProgram | undefined> {
    if (ref === undefined) return undefined;
    const program = deps.programs ? await deps.programs.resolve(ref) : configProgramRef(config, ref);
    if (!program) throw unknownProgram(config, ref);
    return program;
  }

  router.post('/v1/predictions', async (req, res) => {
    const tenant = req.tenant!;
    const requestId = res.getHeader('x-request-id') as string;
    const idempotencyKey = idempotencyKeyOf(req);
    const waitSeconds = parsePreferWait(req.get('prefer'), config.http.max_wait_s);
    const request = parsePredictionRequest(req.body);
    const id = predictionId(tenant, idempotencyKey);
    const program = await lookupProgram(request.program);
    const resolved = resolvePrediction(config, request, { tenant, requestId, now: deps.clock.now(), program });
    const { data } = resolved;

    let existing: JobSnapshot | undefined;
    if (idempotencyKey !== undefined) {
      existing = await findOwned(id, tenant);
      if (existing && existing.job.data.request_hash !== data.request_hash) {
        throw new PredictqError('conflict', 'this Idempotency-Key was used with a different request body');
      }
    }
    const replayed = existing !== undefined;
    // An answer already in L2 needs no job (and costs nothing, so it comes before the budget check).
    if (!replayed && deps.cacheFastPath) {
      const answered = await deps.cacheFastPath.answer(id, resolved, deps.clock);
      if (answered) {
        void deps.recordCacheAnswer?.(data, answered);
        return void res.status(200).location(`/v1/predictions/${id}`).json(answered);
      }
    }
    if (!replayed) {
      // A spent budget refuses new work here, before it is queued (a replay is not new work).
      await deps.budgetCheck?.(resolved);
      // BullMQ ignores an add with an existing job id, so racing retries still make one job.
      await queues.add(id, data);
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
    await cancellations.record(cancelled, tenant);
    res.json(cancelled);
  });

  return router;
}
