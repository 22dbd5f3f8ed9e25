// An LM call as every job kind makes it: the worst case reserved in the budgets first, then the
// route's breaker, RPM/TPM admission and timeout (LmGuard), the call, and the settlement at the
// real usage (released instead when nothing was spent). Waiting anywhere is a WaitError.
import type { Clock } from '../clock/index.js';
import type { RouteConfig } from '../config/index.js';
import type { CostTracker } from '../cost/index.js';
import type { LmUsage } from '../lm/index.js';
import type { LmGuard } from '../resilience/index.js';
import { callLm } from './call-lm.js';
import type { PipelineEvents } from './events.js';

export interface MeteredCallDeps {
  clock: Clock;
  events: PipelineEvents;
  /** Without it calls cost 0 and no budget applies. */
  cost?: CostTracker | undefined;
  /** Without it calls go straight out (no limits, no breaker, the LM client's own timeout). */
  guard?: LmGuard | undefined;
}

export interface MeteredCall<T> {
  /** Names the call in the budgets (the job id). */
  id: string;
  tenant: string;
  route: RouteConfig;
  variant: string | null;
  /**
   * The prompt's estimated tokens, asked for only when a budget or a TPM limit needs it: counting
   * them is a tokenizer pass over the whole prompt (and loading the tokenizer, ~64 MB, at first).
   */
  promptTokens: () => number;
  maxTokens: number;
  /** The job's signal: cancelling the job aborts the call. */
  signal?: AbortSignal | undefined;
  send(signal?: AbortSignal): Promise<T>;
}

export async function meteredCall<T extends { usage: LmUsage }>(
  deps: MeteredCallDeps,
  call: MeteredCall<T>,
): Promise<{ response: T; costMicros: number; durationMs: number }> {
  const { route } = call;
  const reservation = await deps.cost?.reserve({
    id: call.id,
    tenant: call.tenant,
    route,
    variant: call.variant,
    promptTokens: call.promptTokens,
    maxTokens: call.maxTokens,
  });
  let settled = false;
  try {
    const send = (signal?: AbortSignal) => callLm(deps, route, () => call.send(signal));
    const { response, durationMs } = deps.guard
      ? await deps.guard.run({
          route,
          estimatedTokens: () => call.promptTokens() + call.maxTokens,
          ...(call.signal ? { signal: call.signal } : {}),
          call: send,
          usedTokens: (r) => r.response.usage.total_tokens,
        })
      : await send(call.signal);
    const costMicros = (await reservation?.settle(response.usage)) ?? 0;
    settled = true;
    return { response, costMicros, durationMs };
  } finally {
    if (!settled) await reservation?.release();
  }
}
