// Cancelling a prediction that is already running: ask the workers (CancelChannel), then wait
// briefly for the job to fail with `cancelled` (its LM call aborted). False if it finished
// first or no worker aborted it in time.
import { decodeJobError } from '@predictq/core';
import type { JobSnapshot } from './prediction-queues.js';

export async function cancelRunning(
  id: string,
  deps: { publish(jobId: string): Promise<unknown>; snapshot(jobId: string): Promise<JobSnapshot | undefined> },
  timeoutMs = 5000,
): Promise<boolean> {
  await deps.publish(id);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const snapshot = await deps.snapshot(id);
    if (snapshot?.state === 'failed') return decodeJobError(snapshot.job.failedReason).code === 'cancelled';
    if (snapshot?.state !== 'active' || Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
