// The batch object of OpenAI's Batch API, with predictq's extensions (callback_url, cost_usd),
// as it is read back from its Redis hash.

export const BATCH_STATUSES = ['validating', 'failed', 'in_progress', 'finalizing', 'completed', 'expired', 'cancelling', 'cancelled'] as const;
export type BatchStatus = (typeof BATCH_STATUSES)[number];
export const BATCH_ENDPOINTS = ['/v1/chat/completions', '/v1/predictions'] as const;
export type BatchEndpoint = (typeof BATCH_ENDPOINTS)[number];

export interface BatchLineError {
  code: string;
  message: string;
  param: string | null;
  line: number | null;
}

export interface BatchObject {
  id: string;
  object: 'batch';
  endpoint: BatchEndpoint;
  errors: { object: 'list'; data: BatchLineError[] } | null;
  input_file_id: string;
  completion_window: string;
  status: BatchStatus;
  output_file_id: string | null;
  error_file_id: string | null;
  created_at: number;
  in_progress_at: number | null;
  expires_at: number;
  finalizing_at: number | null;
  completed_at: number | null;
  failed_at: number | null;
  expired_at: number | null;
  cancelling_at: number | null;
  cancelled_at: number | null;
  request_counts: { total: number; completed: number; failed: number };
  metadata: Record<string, string> | null;
  /** predictq: where batch events are delivered, besides the tenant's endpoints. */
  callback_url: string | null;
  /** predictq: what the batch's LM calls cost so far. */
  cost_usd: number;
  /** predictq: input lines enqueued so far (the ingest's progress). */
  ingested: number;
}

const TIMESTAMPS = ['in_progress_at', 'finalizing_at', 'completed_at', 'failed_at', 'expired_at', 'cancelling_at', 'cancelled_at'] as const;

const int = (value: string | undefined) => (value === undefined || value === '' ? null : Number(value));

/** The object from its hash fields (numbers and JSON as strings). */
export function batchFromHash(id: string, h: Record<string, string>): BatchObject {
  return {
    id,
    object: 'batch',
    endpoint: h.endpoint as BatchEndpoint,
    errors: h.errors ? { object: 'list', data: JSON.parse(h.errors) as BatchLineError[] } : null,
    input_file_id: h.input_file_id ?? '',
    completion_window: h.completion_window ?? '24h',
    status: h.status as BatchStatus,
    output_file_id: h.output_file_id || null,
    error_file_id: h.error_file_id || null,
    created_at: Number(h.created_at),
    expires_at: Number(h.expires_at),
    ...(Object.fromEntries(TIMESTAMPS.map((field) => [field, int(h[field])])) as Record<(typeof TIMESTAMPS)[number], number | null>),
    request_counts: { total: Number(h.total ?? 0), completed: Number(h.completed ?? 0), failed: Number(h.failed ?? 0) },
    metadata: h.metadata ? (JSON.parse(h.metadata) as Record<string, string>) : null,
    callback_url: h.callback_url || null,
    cost_usd: Number(h.cost_micros ?? 0) / 1_000_000,
    ingested: Number(h.ingested ?? 0),
  };
}

/** "24h", "90m", "30s": OpenAI's only window is 24h; shorter ones are predictq's. */
export function parseCompletionWindow(window: string): number | undefined {
  const match = /^(\d{1,6})(s|m|h)$/.exec(window);
  if (!match) return undefined;
  const seconds = Number(match[1]) * { s: 1, m: 60, h: 3600 }[match[2] as 's' | 'm' | 'h'];
  return seconds >= 1 && seconds <= 86_400 ? seconds : undefined;
}
