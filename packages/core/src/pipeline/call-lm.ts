// Stage: one LM call, timed, reported as an event whatever its outcome.
import { PredictqError } from '../errors/index.js';
import type { LmUsage } from '../lm/index.js';
import type { Clock } from '../clock/index.js';
import type { LmCallEvent, PipelineEvents } from './events.js';

function outcomeOf(err: unknown): LmCallEvent['outcome'] {
  if (!(err instanceof PredictqError)) return 'connection_error';
  switch (err.code) {
    case 'lm_timeout':
      return 'timeout';
    case 'lm_rate_limited':
      return 'rate_limited';
    case 'lm_upstream_error':
      return 'upstream_error';
    case 'lm_client_error':
      return 'client_error';
    case 'cancelled':
      return 'cancelled';
    default:
      return 'connection_error';
  }
}

/** Runs one LM call (any kind), timed, and reports it as an 'lm:call' event whatever its outcome. */
export async function callLm<T extends { usage: LmUsage }>(
  deps: { clock: Clock; events: PipelineEvents },
  route: { name: string; model: string },
  call: () => Promise<T>,
): Promise<{ response: T; durationMs: number }> {
  const started = deps.clock.now();
  try {
    const response = await call();
    const durationMs = deps.clock.now() - started;
    deps.events.emit('lm:call', { route: route.name, model: route.model, outcome: 'ok', durationMs, usage: response.usage });
    return { response, durationMs };
  } catch (err) {
    const durationMs = deps.clock.now() - started;
    deps.events.emit('lm:call', { route: route.name, model: route.model, outcome: outcomeOf(err), durationMs });
    throw err;
  }
}
