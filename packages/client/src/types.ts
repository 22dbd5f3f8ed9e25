// The shapes the client reads (a subset of the API's; fields it does not use are passed along).

export interface Prediction {
  id: string;
  object: 'prediction';
  status: 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
  model: string;
  outputs: Record<string, unknown> | null;
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | null;
  cost_usd: number | null;
  cache: { hit: boolean; level: string | null };
  error: { code: string; message: string } | null;
  [key: string]: unknown;
}

export interface FileObject {
  id: string;
  object: 'file';
  bytes: number;
  filename: string;
  purpose: string;
  [key: string]: unknown;
}

export type BatchStatus = 'validating' | 'failed' | 'in_progress' | 'finalizing' | 'completed' | 'expired' | 'cancelling' | 'cancelled';

export interface Batch {
  id: string;
  object: 'batch';
  endpoint: string;
  status: BatchStatus;
  input_file_id: string;
  output_file_id: string | null;
  error_file_id: string | null;
  errors: { data: Array<{ code: string; message: string; line: number | null }> } | null;
  request_counts: { total: number; completed: number; failed: number };
  created_at: number;
  cost_usd?: number;
  ingested?: number;
  [key: string]: unknown;
}

export const FINAL_BATCH_STATUSES: readonly BatchStatus[] = ['completed', 'failed', 'expired', 'cancelled'];

export interface UsageReport {
  object: 'usage_report';
  from: string;
  to: string;
  group_by: string;
  groups: Array<{ key: string; requests: number; total_tokens: number; cost_usd: number; cache_hits: number; saved_usd: number }>;
  total: { requests: number; total_tokens: number; cost_usd: number; cache_hits: number; saved_usd: number };
}
