// One LM call's AbortSignal: aborted by the route timeout (reason: lm_timeout) or by the job's
// own signal (BullMQ cancellation; reason: cancelled). The LM client reports the reason.
import { LmError, PredictqError } from '../errors/index.js';

export interface CallSignal {
  signal: AbortSignal;
  dispose(): void;
}

export function callSignal(timeoutMs: number, parent?: AbortSignal): CallSignal {
  const controller = new AbortController();
  const onParentAbort = () => controller.abort(new PredictqError('cancelled', 'the prediction was cancelled'));
  if (parent?.aborted) onParentAbort();
  else parent?.addEventListener('abort', onParentAbort, { once: true });
  const timer = setTimeout(
    () => controller.abort(new LmError('lm_timeout', `the LM did not answer within ${timeoutMs} ms`)),
    timeoutMs,
  );
  timer.unref();
  return {
    signal: controller.signal,
    dispose() {
      clearTimeout(timer);
      parent?.removeEventListener('abort', onParentAbort);
    },
  };
}
