/**
 * The one error type the service raises on purpose. Every layer may throw it; `http/error-handler.ts`
 * is the only place that turns a code into an HTTP status and a response body.
 */
export const errorCodes = [
  'invalid_request',
  'body_too_large',
  'url_not_allowed',
  'fetch_failed',
  'media_too_large',
  'unsupported_media_type',
  'undecodable_media',
  'not_found',
  'unauthorized',
  'rate_limited',
  'overloaded',
  'audit_unavailable',
  'database_unavailable',
  'internal_error',
] as const;

export type ErrorCode = (typeof errorCodes)[number];

export type FieldError = { path: string; message: string };

export class AppError extends Error {
  override name = 'AppError';

  constructor(
    readonly code: ErrorCode,
    /** Human-readable, safe to show to the caller: no stack traces, paths or secrets. */
    readonly detail: string,
    readonly options: { fieldErrors?: FieldError[]; retryAfterSeconds?: number; cause?: unknown } = {},
  ) {
    super(detail, { cause: options.cause });
  }
}

/** The message of anything thrown: errors carry one, anything else is turned into text. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
