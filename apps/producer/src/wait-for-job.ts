// `Prefer: wait=N`: wait on completion events with a deadline, and poll the job itself too,
// because events are best-effort and the stored result is the truth. Never waits past N.
import { PredictqError } from '@predictq/core';
import type { PredictionQueues } from './prediction-queues.js';

const POLL_MS = 500;

/** Seconds to wait from a Prefer header (RFC 7240), capped at `maxSeconds`; 0 without a wait preference. */
export function parsePreferWait(header: string | undefined, maxSeconds: number): number {
  if (!header) return 0;
  const match = /(?:^|[\s,;])wait\s*=\s*("?)([^\s,;"]*)\1(?=$|[\s,;])/i.exec(header);
  if (!match) return 0;
  const value = match[2]!;
  if (!/^\d{1,6}$/.test(value)) {
    throw new PredictqError('invalid_request', `Prefer: wait must be a whole number of seconds (0 to ${maxSeconds}), got "${value}"`, {
      details: { field: 'Prefer' },
    });
  }
  return Math.min(Number(value), maxSeconds);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, Math.max(0, ms));
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Resolves once the job finished, the wait ran out, Redis failed, or the signal aborted; never rejects. */
export async function waitForJob(queues: PredictionQueues, route: string, jobId: string, waitMs: number, signal?: AbortSignal): Promise<void> {
  if (waitMs <= 0) return;
  const deadline = Date.now() + waitMs;
  const stop = new AbortController();
  const abort = () => stop.abort();
  signal?.addEventListener('abort', abort, { once: true });
  // Unknown (removed) and unreadable count as finished: the caller's final read says what it is.
  const isFinished = () => queues.finishedOrGone(jobId, route).catch(() => true);

  const viaEvents = (async () => {
    try {
      const events = await queues.events(route);
      // QueueEvents also emits "<event>:<job id>": one listener per waiter, reached in O(1).
      const emitter = events as unknown as NodeJS.EventEmitter;
      const completed = `completed:${jobId}`;
      const failed = `failed:${jobId}`;
      await new Promise<void>((resolve) => {
        const finish = () => {
          emitter.off(completed, finish);
          emitter.off(failed, finish);
          stop.signal.removeEventListener('abort', finish);
          resolve();
        };
        emitter.on(completed, finish);
        emitter.on(failed, finish);
        stop.signal.addEventListener('abort', finish, { once: true });
        // The job may have finished before we listened.
        void isFinished().then((finished) => finished && finish());
      });
    } catch {
      // No events (Redis trouble): polling and the deadline still end the wait.
      await sleep(deadline - Date.now(), stop.signal);
    }
  })();

  const viaPolling = (async () => {
    while (!stop.signal.aborted && Date.now() < deadline) {
      await sleep(Math.min(POLL_MS, deadline - Date.now()), stop.signal);
      if (stop.signal.aborted || (await isFinished())) return;
    }
  })();

  await Promise.race([viaEvents, viaPolling, sleep(deadline - Date.now(), stop.signal)]);
  stop.abort();
  signal?.removeEventListener('abort', abort);
}
