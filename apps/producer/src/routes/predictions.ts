// /v1/predictions/:id: read, cancel, feedback. Creating one (POST /v1/predictions) is
// create-prediction.ts, served by the prediction lane.
import { Router } from 'express';
import { z } from 'zod';
import { PredictqError, predictionEvent, type PredictionJobData } from '@predictq/core';
import { cancelRunning } from '../cancel-running.js';
import { findOwned as findOwnedIn, type PredictionRoutesDeps } from '../create-prediction.js';
import { predictionFromSnapshot, predictionObject, type PredictionObject } from '../prediction-object.js';


const FeedbackSchema = z.object({ score: z.number().min(0).max(1) }).strict();

export function predictionRoutes(deps: PredictionRoutesDeps): Router {
  const { queues, cancellations } = deps;
  const router = Router();

  const findOwned = (id: string, tenant: string) => findOwnedIn(queues, id, tenant);

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
