// Errors on the OpenAI-compatible routes, in OpenAI's shape ({"error": {message, type, param,
// code}}) and with the statuses OpenAI uses, so the SDKs' error classes and retry logic behave:
// 401 AuthenticationError, 404 NotFoundError (model_not_found), 429 RateLimitError (with
// Retry-After, or x-should-retry: false when retrying cannot help), 400 BadRequestError.
import type { Response } from 'express';
import type { ErrorCode, PredictqError } from '@predictq/core';

interface OpenAIKind {
  status: number;
  type: string;
  /** OpenAI's code where it has one; otherwise predictq's. */
  code?: string;
  /** Tell the SDKs not to retry (their default retries 429 and 5xx). */
  final?: boolean;
}

const BAD_REQUEST: OpenAIKind = { status: 400, type: 'invalid_request_error' };
const SERVER: OpenAIKind = { status: 500, type: 'server_error' };

export const OPENAI_ERRORS: Record<ErrorCode, OpenAIKind> = {
  invalid_json: BAD_REQUEST,
  invalid_request: BAD_REQUEST,
  invalid_signature: BAD_REQUEST,
  invalid_input: BAD_REQUEST,
  nesting_too_deep: BAD_REQUEST,
  callback_url_not_allowed: BAD_REQUEST,
  payload_too_large: { status: 413, type: 'invalid_request_error' },
  unsupported_media_type: { status: 415, type: 'invalid_request_error' },
  unauthorized: { status: 401, type: 'invalid_request_error', code: 'invalid_api_key' },
  forbidden: { status: 403, type: 'invalid_request_error' },
  not_found: { status: 404, type: 'invalid_request_error' },
  conflict: { status: 409, type: 'invalid_request_error' },
  unknown_model: { status: 404, type: 'invalid_request_error', code: 'model_not_found' },
  unknown_program: { status: 404, type: 'invalid_request_error' },
  unknown_experiment: { status: 404, type: 'invalid_request_error' },
  budget_exceeded: { status: 429, type: 'insufficient_quota', code: 'insufficient_quota', final: true },
  rate_limited: { status: 429, type: 'requests', code: 'rate_limit_exceeded' },
  lm_timeout: { status: 504, type: 'server_error', code: 'timeout' },
  lm_rate_limited: { status: 429, type: 'requests', code: 'rate_limit_exceeded' },
  lm_upstream_error: { status: 502, type: 'server_error' },
  lm_client_error: BAD_REQUEST,
  lm_connection_error: { status: 502, type: 'server_error' },
  lm_circuit_open: { status: 503, type: 'server_error' },
  unparseable_reply: { status: 502, type: 'server_error' },
  deadline_exceeded: { status: 504, type: 'server_error', code: 'timeout' },
  cancelled: { status: 409, type: 'invalid_request_error', final: true },
  config_invalid: SERVER,
  service_unavailable: { status: 503, type: 'server_error' },
  internal_error: SERVER,
};

/** The routes OpenAI's SDKs call; everything else keeps predictq's own error shape. */
export function isOpenAIPath(path: string): boolean {
  return /^\/v1\/(chat\/|models(\/|$)|files(\/|$)|batches(\/|$))/.test(path);
}

export function openAIErrorBody(err: PredictqError): { error: { message: string; type: string; param: string | null; code: string } } {
  const kind = OPENAI_ERRORS[err.code];
  const field = err.details?.field;
  return { error: { message: err.message, type: kind.type, param: typeof field === 'string' ? field : null, code: kind.code ?? err.code } };
}

export function sendOpenAIError(res: Response, err: PredictqError): void {
  const kind = OPENAI_ERRORS[err.code];
  const retryAfter = err.details?.retry_after_s;
  if (typeof retryAfter === 'number') res.setHeader('Retry-After', String(retryAfter));
  if (kind.final) res.setHeader('x-should-retry', 'false');
  res.status(kind.status).json(openAIErrorBody(err));
}
