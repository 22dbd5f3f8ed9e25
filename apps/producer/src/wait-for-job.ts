// `Prefer: wait=N`: wait on completion events with a deadline, and poll the job itself too,
// because events are best-effort and the stored result is the truth. Never waits past N.
import { PredictionResultSchema, PredictqError, predictionObject, type PredictionJobData, type PredictionObject } from '@predictq/core';
import { predictionFromSnapshot } from './prediction-object.js';
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

/**
 * The end of one wait: ended at most once, releasing every timer and listener it holds. A plain
 * promise, not an AbortController: a wait lives as long as the LM call, so what it holds is
 * promoted to the old generation. With a controller (and a disconnect signal made for every
 * request, waiting or not) each uncached request left ~11 KB there, ~6.5 KB without (V8's
 * sampling heap profiler, objects that survived a scavenge); an abort without a reason also
 * built a DOMException, stack and all.
 */
class WaitEnd {
  ended = false;
  readonly #over: Promise<void>;
  #resolve!: () => void;

  constructor() {
    this.#over = new Promise((resolve) => (this.#resolve = resolve));
  }

  end = (): void => {
    this.ended = true;
    this.#resolve();
  };

  /** Runs `release` when the wait ends. */
  onEnd(release: () => void): void {
    void this.#over.then(release);
  }

  /** Resolves after ms, or as soon as the wait ends. */
  sleep(ms: number): Promise<void> {
    if (this.ended) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, Math.max(0, ms));
      this.onEnd(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

/** What a completion event said: the job's return value, written in the same step as its state. */
export interface HeardCompletion {
  returnvalue: unknown;
}

/** Listeners for one job's completed and failed events, attached until stop(). */
export interface CompletionListener {
  /** The completed event's return value, or 'failed'; never rejects. */
  readonly heard: Promise<HeardCompletion | 'failed'>;
  stop(): void;
}

/**
 * Starts listening for a job's end. Attached before the job is added, it cannot miss a fast
 * finish, so no "finished already?" read is needed. Undefined when events cannot be had.
 */
export async function listenForCompletion(queues: PredictionQueues, route: string, jobId: string): Promise<CompletionListener | undefined> {
  let emitter: NodeJS.EventEmitter;
  try {
    // QueueEvents also emits "<event>:<job id>": one listener per waiter, reached in O(1).
    emitter = (await queues.events(route)) as unknown as NodeJS.EventEmitter;
  } catch {
    return undefined;
  }
  const completed = `completed:${jobId}`;
  const failed = `failed:${jobId}`;
  let stop = () => {};
  const heard = new Promise<HeardCompletion | 'failed'>((resolve) => {
    const onCompleted = (args: { returnvalue?: unknown }) => {
      stop();
      resolve({ returnvalue: args.returnvalue });
    };
    const onFailed = () => {
      stop();
      resolve('failed');
    };
    emitter.on(completed, onCompleted);
    emitter.on(failed, onFailed);
    stop = () => {
      emitter.off(completed, onCompleted);
      emitter.off(failed, onFailed);
    };
  });
  return { heard, stop: () => stop() };
}

/**
 * Resolves once the job finished, the wait ran out, Redis failed, or the signal aborted; never
 * rejects. With the completion event's return value when that is how the finish was heard.
 * `listening`: listeners attached before the job was added (they are stopped here).
 */
export async function waitForJob(
  queues: PredictionQueues,
  route: string,
  jobId: string,
  waitMs: number,
  signal?: AbortSignal,
  listening?: CompletionListener,
): Promise<HeardCompletion | undefined> {
  if (waitMs <= 0) {
    listening?.stop();
    return undefined;
  }
  let heard: HeardCompletion | undefined;
  const deadline = Date.now() + waitMs;
  const wait = new WaitEnd();
  if (signal?.aborted) wait.end();
  signal?.addEventListener('abort', wait.end, { once: true });
  // Unknown (removed) and unreadable count as finished: the caller's final read says what it is.
  const isFinished = () => queues.finishedOrGone(jobId, route).catch(() => true);

  const viaEvents = (async () => {
    const listener = listening ?? (await listenForCompletion(queues, route, jobId));
    if (!listener) {
      // No events (Redis trouble): polling and the deadline still end the wait.
      await wait.sleep(deadline - Date.now());
      return;
    }
    wait.onEnd(() => listener.stop());
    // Attached only now, the job may have finished before we listened.
    const never = new Promise<never>(() => {});
    const before = listening ? never : isFinished().then((finished) => (finished ? ('finished' as const) : never));
    const outcome = await Promise.race([listener.heard, before]);
    if (outcome !== 'failed' && outcome !== 'finished') heard = outcome;
  })();

  const viaPolling = (async () => {
    while (!wait.ended && Date.now() < deadline) {
      await wait.sleep(Math.min(POLL_MS, deadline - Date.now()));
      if (wait.ended || (await isFinished())) return;
    }
  })();

  await Promise.race([viaEvents, viaPolling, wait.sleep(deadline - Date.now())]);
  wait.end();
  signal?.removeEventListener('abort', wait.end);
  return heard;
}

/**
 * The prediction after waiting up to waitMs: built from the completion event when one was heard
 * (state and result come from the one atomic step that finished the job, and the data is the
 * job's own, `data`), else read from the job in one round trip. Undefined when the job is gone.
 */
export async function waitForPrediction(
  queues: PredictionQueues,
  id: string,
  data: PredictionJobData,
  waitMs: number,
  signal?: AbortSignal,
  listening?: CompletionListener,
): Promise<PredictionObject | undefined> {
  const heard = await waitForJob(queues, data.route, id, waitMs, signal, listening);
  if (heard) {
    const parsed = PredictionResultSchema.safeParse(heard.returnvalue);
    if (parsed.success) return predictionObject(id, data, 'succeeded', { result: parsed.data });
  }
  const snapshot = await queues.snapshot(id);
  return snapshot ? predictionFromSnapshot(snapshot) : undefined;
}
