// Cancelling a prediction that is already running: ask the workers (CancelChannel), then wait
// briefly for the job to fail with `cancelled` (its LM call aborted). False if it finished
// first or no worker aborted it in time.
import type { Job } from 'bullmq';
import { decodeJobError } from '@predictq/core';

export async function cancelRunning(
  id: string,
  deps: { publish(jobId: string): Promise<unknown>; find(jobId: string): Promise<Job | undefined> },
  timeoutMs = 5000,
): Promise<boolean> {
  await deps.publish(id);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await deps.find(id);
    const state = job ? await job.getState() : 'unknown';
    if (state === 'failed') return decodeJobError(job!.failedReason).code === 'cancelled';
    if (state !== 'active' || Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
