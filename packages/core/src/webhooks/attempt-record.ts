// One delivery attempt as the delivery history keeps it (a BullMQ job log line, written by the
// worker that made the attempt, read by the producer's API): status, latency, our own error
// text; never a body, a header or a secret.
import { z } from 'zod';
import { ATTEMPT_OUTCOMES } from './delivery-policy.js';
import type { AttemptResult } from './webhook-sender.js';

export const AttemptRecordSchema = z.object({
  attempt: z.number().int(),
  at: z.number(),
  outcome: z.enum(ATTEMPT_OUTCOMES),
  status_code: z.number().int().nullable(),
  latency_ms: z.number(),
  error: z.string().nullable(),
  /** When the next attempt is due; null when this one was the last. */
  next_attempt_at: z.number().nullable(),
});

export type AttemptRecord = z.infer<typeof AttemptRecordSchema>;

export function attemptRecord(attempt: number, at: number, result: AttemptResult, nextAttemptAt: number | null): string {
  const record: AttemptRecord = {
    attempt,
    at,
    outcome: result.outcome,
    status_code: result.statusCode,
    latency_ms: result.latencyMs,
    error: result.error === null ? null : result.error.slice(0, 300),
    next_attempt_at: nextAttemptAt,
  };
  return JSON.stringify(record);
}

export function parseAttemptRecord(line: string): AttemptRecord | undefined {
  try {
    const parsed = AttemptRecordSchema.safeParse(JSON.parse(line));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
