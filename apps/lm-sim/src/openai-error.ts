// Error bodies shaped like OpenAI's, so SDKs and our own error classification treat the
// simulator's failures exactly like the real API's.
import type { Response } from 'express';

export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

interface ErrorKind {
  type: string;
  code: string;
  message: string;
}

/** Default type, code and message per status; other statuses fall back by class (4xx/5xx). */
const ERROR_KINDS: Record<number, ErrorKind> = {
  400: { type: 'invalid_request_error', code: 'invalid_request', message: 'Invalid request.' },
  401: { type: 'invalid_request_error', code: 'invalid_api_key', message: 'Incorrect API key provided.' },
  403: { type: 'invalid_request_error', code: 'permission_denied', message: 'You are not allowed to access this resource.' },
  404: { type: 'invalid_request_error', code: 'not_found', message: 'The requested resource was not found.' },
  408: { type: 'server_error', code: 'timeout', message: 'Request timed out.' },
  409: { type: 'invalid_request_error', code: 'conflict', message: 'The request conflicts with another request.' },
  422: { type: 'invalid_request_error', code: 'unprocessable_entity', message: 'The request could not be processed.' },
  429: {
    type: 'rate_limit_exceeded',
    code: 'rate_limit_exceeded',
    message: 'Rate limit reached for requests (simulated). Please try again later.',
  },
  500: {
    type: 'server_error',
    code: 'internal_error',
    message: 'The server had an error while processing your request. Sorry about that! (simulated)',
  },
  502: { type: 'server_error', code: 'bad_gateway', message: 'Bad gateway (simulated).' },
  503: {
    type: 'server_error',
    code: 'service_unavailable',
    message: 'The engine is currently overloaded, please try again later. (simulated)',
  },
  504: { type: 'server_error', code: 'timeout', message: 'Gateway timeout (simulated).' },
};

export function errorKind(status: number): ErrorKind {
  return (
    ERROR_KINDS[status] ??
    (status >= 500
      ? { type: 'server_error', code: 'server_error', message: `Server error ${status} (simulated).` }
      : { type: 'invalid_request_error', code: 'client_error', message: `Client error ${status} (simulated).` })
  );
}

export function sendOpenAIError(
  res: Response,
  status: number,
  overrides: { message?: string; code?: string; param?: string | null } = {},
): void {
  const kind = errorKind(status);
  const body: OpenAIErrorBody = {
    error: {
      message: overrides.message ?? kind.message,
      type: kind.type,
      param: overrides.param ?? null,
      code: overrides.code ?? kind.code,
    },
  };
  res.status(status).json(body);
}
