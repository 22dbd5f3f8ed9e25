// A failed job keeps only a string (failedReason) in Redis; predictq writes it as
// "code: message" so the prediction object can show a stable error code.
import { ERROR_CODES, type ErrorCode, PredictqError } from '../errors/index.js';

const CODES = new Set<string>(ERROR_CODES);

export function encodeJobError(err: PredictqError): string {
  return `${err.code}: ${err.message}`;
}

export function decodeJobError(reason: string | undefined): { code: ErrorCode; message: string } {
  const match = /^([a-z_]+): ([\s\S]*)$/.exec(reason ?? '');
  if (match && CODES.has(match[1]!)) return { code: match[1] as ErrorCode, message: match[2]! };
  // Anything else came from an unexpected throw; its text is not for clients.
  return { code: 'internal_error', message: 'the prediction failed with an internal error' };
}
