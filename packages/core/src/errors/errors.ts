// One registry of predictq errors: every failure a client or operator can see has a stable
// string code here. HTTP statuses are mapped once, at the producer's edge.

export const ERROR_CODES = [
  // request problems (the client can fix them)
  'invalid_json',
  'invalid_request',
  'invalid_signature',
  'invalid_input',
  'nesting_too_deep',
  'payload_too_large',
  'unsupported_media_type',
  'unauthorized',
  'forbidden',
  'not_found',
  'conflict',
  'unknown_model',
  'unknown_program',
  'unknown_experiment',
  'budget_exceeded',
  'rate_limited',
  'callback_url_not_allowed',
  // LM problems
  'lm_timeout',
  'lm_rate_limited',
  'lm_upstream_error',
  'lm_client_error',
  'lm_connection_error',
  'lm_circuit_open',
  'unparseable_reply',
  'deadline_exceeded',
  // operations
  'cancelled',
  'config_invalid',
  'service_unavailable',
  'internal_error',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface PredictqErrorOptions {
  cause?: unknown;
  /** Extra structured facts, safe to show a client (never secrets or raw upstream bodies). */
  details?: Record<string, unknown>;
}

export class PredictqError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: PredictqErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PredictqError';
    this.code = code;
    this.details = options.details;
  }

  toJSON(): { code: ErrorCode; message: string; details?: Record<string, unknown> } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

/** Input that cannot be served as sent: a bad signature, a missing or mistyped field. */
export class ValidationError extends PredictqError {
  constructor(
    code: Extract<ErrorCode, 'invalid_request' | 'invalid_signature' | 'invalid_input' | 'unknown_model' | 'unknown_program'>,
    message: string,
    options?: PredictqErrorOptions,
  ) {
    super(code, message, options);
    this.name = 'ValidationError';
  }
}

/** The LM answered, but not in the shape the signature asked for. */
export class ParseError extends PredictqError {
  constructor(message: string, options?: PredictqErrorOptions) {
    super('unparseable_reply', message, options);
    this.name = 'ParseError';
  }
}

export type LmErrorCode = Extract<
  ErrorCode,
  'lm_timeout' | 'lm_rate_limited' | 'lm_upstream_error' | 'lm_client_error' | 'lm_connection_error'
>;

/** A failed LM call, classified. `retryable` says whether another attempt can help. */
export class LmError extends PredictqError {
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(
    code: LmErrorCode,
    message: string,
    options: PredictqErrorOptions & { status?: number; retryAfterMs?: number } = {},
  ) {
    super(code, message, options);
    this.name = 'LmError';
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
  }

  /** Upstream-health failures (the ones a circuit breaker counts). */
  get isUpstreamFailure(): boolean {
    return this.code === 'lm_timeout' || this.code === 'lm_upstream_error' || this.code === 'lm_connection_error';
  }

  get retryable(): boolean {
    return this.code !== 'lm_client_error';
  }
}

/** A setting that is missing or malformed; start-up stops with it. */
export class ConfigError extends PredictqError {
  constructor(message: string, options?: PredictqErrorOptions) {
    super('config_invalid', message, options);
    this.name = 'ConfigError';
  }
}

/** Whether another attempt can help: transient LM failures and internal trouble, not bad input. */
export function isRetryable(err: PredictqError): boolean {
  if (err instanceof WaitError) return false; // requeued, not retried
  if (err instanceof LmError) return err.retryable;
  return err.code === 'internal_error' || err.code === 'service_unavailable';
}

export function isPredictqError(err: unknown): err is PredictqError {
  return err instanceof PredictqError;
}

/** Why a job went back to the queue without spending an attempt. */
export const WAIT_REASONS = ['circuit_open', 'rate_window', 'lm_429', 'budget', 'redis'] as const;
export type WaitReason = (typeof WAIT_REASONS)[number];

/**
 * Control flow, not failure: "put this job back and try again in `delayMs`" (an open breaker,
 * an exhausted rate window, a budget on hold, an unreachable ledger). The job waits without
 * spending an attempt, as long as its deadline allows; `code` names what it waited for.
 */
export class WaitError extends PredictqError {
  readonly delayMs: number;
  readonly reason: WaitReason;

  constructor(code: ErrorCode, message: string, delayMs: number, reason: WaitReason, options?: PredictqErrorOptions) {
    super(code, message, options);
    this.name = 'WaitError';
    this.delayMs = Math.max(0, Math.ceil(delayMs));
    this.reason = reason;
  }
}

/** Any throw as a PredictqError: unknown ones become internal_error (their text is not for clients). */
export function toPredictqError(err: unknown): PredictqError {
  return err instanceof PredictqError ? err : new PredictqError('internal_error', 'unexpected failure', { cause: err });
}
