// `Prefer: wait=N`: wait on completion events with a deadline, and poll the job itself too,
// because events are best-effort and the stored result is the truth. Never waits past N.
import type { Job } from 'bullmq';
import type { PredictionQueues } from './prediction-queues.js';

const POLL_MS = 500;

export function parsePreferWait(header: string | undefined, maxSeconds: number): number {
  if (!header) return 0;
  const match = /(?:^|[\s,;])wait=(\d{1,6})(?:$|[\s,;])/i.exec(header);
  if (!match) return 0;
  return Math.min(Number(match[1]), maxSeconds);
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

/** Resolves once the job finished, the wait ran out, or the signal aborted; never rejects. */
export async function waitForJob(queues: PredictionQueues, job: Job, waitMs: number, signal?: AbortSignal): Promise<void> {
  if (waitMs <= 0 || !job.id) return;
  const jobId = job.id;
  const queue = queues.queue(job.data.route);
  const deadline = Date.now() + waitMs;
  const stop = new AbortController();
  const abort = () => stop.abort();
  signal?.addEventListener('abort', abort, { once: true });
  const isFinished = async () => {
    const state = await queue.getJobState(jobId).catch(() => 'unknown');
    return state === 'completed' || state === 'failed' || state === 'unknown';
  };

  const viaEvents = (async () => {
    try {
      const events = await queues.events(job.data.route);
      await job.waitUntilFinished(events, Math.max(1, deadline - Date.now()));
    } catch {
      // A failed job also rejects here; anything else (a missed event) is left to polling.
      if (!(await isFinished())) await sleep(deadline - Date.now(), stop.signal);
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
