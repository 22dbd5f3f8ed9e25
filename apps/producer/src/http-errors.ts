// The ONE table from error codes to HTTP statuses, and the edge where unknown throws become
// a generic internal_error. No stack trace or upstream body ever reaches a client.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorRequestHandler, Response } from 'express';
import { PredictqError, type ErrorCode, type Logger } from '@predictq/core';
import { isOpenAIPath, sendOpenAIError } from './openai-errors.js';

export const HTTP_STATUS: Record<ErrorCode, number> = {
  invalid_json: 400,
  invalid_request: 400,
  invalid_signature: 400,
  invalid_input: 400,
  nesting_too_deep: 400,
  payload_too_large: 413,
  unsupported_media_type: 415,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  unknown_model: 400,
  unknown_program: 404,
  unknown_experiment: 404,
  budget_exceeded: 402,
  rate_limited: 429,
  callback_url_not_allowed: 400,
  lm_timeout: 504,
  lm_rate_limited: 503,
  lm_upstream_error: 502,
  lm_client_error: 502,
  lm_connection_error: 502,
  lm_circuit_open: 503,
  unparseable_reply: 502,
  deadline_exceeded: 504,
  cancelled: 409,
  config_invalid: 500,
  service_unavailable: 503,
  internal_error: 500,
};

export function sendError(res: Response, err: PredictqError): void {
  res.status(HTTP_STATUS[err.code]).json({ error: err.toJSON() });
}

/** A JSON response on a plain ServerResponse, as express's res.json writes it. */
export function writeJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

interface BodyParserError {
  type?: string;
  status?: number;
}

/** ioredis's words for a command that never got an answer (it fails fast rather than queueing). */
const REDIS_TROUBLE = /^(Command timed out|Connection is closed\.?|Stream isn't writeable.*)$/;

/**
 * Converts whatever reached express's error path into the stable error shape. `redisReady`:
 * whether the producer's Redis connection is up (a failure while it is not is Redis's, not ours).
 */
export function toPredictqError(err: unknown, req: IncomingMessage, logger: Logger, redisReady: () => boolean = () => true): PredictqError {
  const parserError = err as BodyParserError;
  if (err instanceof PredictqError) return err;
  if (err instanceof Error && (REDIS_TROUBLE.test(err.message) || !redisReady())) {
    return new PredictqError('service_unavailable', 'Redis is not reachable; try again shortly');
  }
  // Errors of a body parser a route brings (bull-board's, express's own).
  if (parserError?.type === 'entity.parse.failed') return new PredictqError('invalid_json', 'the request body is not valid JSON');
  if (parserError?.type === 'entity.too.large') return new PredictqError('payload_too_large', 'the request body is larger than the server accepts');
  if (parserError?.type === 'encoding.unsupported' || parserError?.type === 'charset.unsupported') {
    return new PredictqError('unsupported_media_type', 'the request body encoding is not supported; send UTF-8 JSON');
  }
  if (typeof parserError?.status === 'number' && parserError.status >= 400 && parserError.status < 500) {
    return new PredictqError('invalid_request', 'the request could not be read');
  }
  logger.error({ err, request_id: req.headers['x-request-id'] }, 'unhandled error');
  return new PredictqError('internal_error', 'something went wrong on our side; the request id is in X-Request-Id');
}

/** The same conversion for a route served outside express (predictq's own error shape). */
export function writeError(res: ServerResponse, error: PredictqError): void {
  if (res.headersSent) return;
  const retryAfter = error.details?.retry_after_s;
  writeJson(res, HTTP_STATUS[error.code], { error: error.toJSON() }, typeof retryAfter === 'number' ? { 'retry-after': String(retryAfter) } : {});
}

export function errorHandler(logger: Logger, redisReady: () => boolean = () => true): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const error = toPredictqError(err, req, logger, redisReady);
    if (res.headersSent) return;
    if (isOpenAIPath(req.path)) sendOpenAIError(res, error);
    else sendError(res, error);
  };
}
