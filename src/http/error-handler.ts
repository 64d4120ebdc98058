import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ZodError } from 'zod';
import { AppError, type ErrorCode } from '../errors.js';
import type { AppEnv } from './app-env.js';

/** The one place where error codes become HTTP statuses and response bodies. */

const statusByCode: Record<ErrorCode, ContentfulStatusCode> = {
  invalid_request: 422,
  body_too_large: 413,
  url_not_allowed: 400,
  fetch_failed: 400,
  media_too_large: 400,
  unsupported_media_type: 400,
  undecodable_media: 400,
  not_found: 404,
  unauthorized: 401,
  rate_limited: 429,
  overloaded: 503,
  audit_unavailable: 503,
  database_unavailable: 503,
  internal_error: 500,
};

export function statusOf(code: ErrorCode): ContentfulStatusCode {
  return statusByCode[code];
}

export function errorResponse(c: Context<AppEnv>, error: AppError): Response {
  const audit = c.get('audit');
  if (audit) audit.error = `${error.code}: ${error.detail}`;
  const body = {
    request_id: c.get('requestId'),
    code: error.code,
    detail: error.detail,
    ...(error.options.fieldErrors && { errors: error.options.fieldErrors }),
  };
  if (error.options.retryAfterSeconds !== undefined) c.header('Retry-After', String(error.options.retryAfterSeconds));
  if (error.code === 'unauthorized') c.header('WWW-Authenticate', 'Bearer');
  return c.json(body, statusOf(error.code));
}

/** Turns anything thrown by a handler into the error body; unknown errors never leak details. */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof HTTPException && error.status === 400 && /json/i.test(error.message)) {
    return new AppError('invalid_request', 'The request body is not valid JSON.');
  }
  if (error instanceof HTTPException && error.status === 415) {
    return new AppError('invalid_request', 'The request body must be JSON, sent with Content-Type: application/json.');
  }
  return new AppError('internal_error', 'An unexpected error occurred. Quote the request_id when reporting it.', { cause: error });
}

export function validationError(error: ZodError, target: string = 'json'): AppError {
  const part = target === 'query' ? 'query string' : 'request body';
  const fieldErrors = error.issues.map((issue) => ({
    path: issue.path.length > 0 ? issue.path.join('.') : target === 'query' ? '(query)' : '(body)',
    message: issue.message,
  }));
  const summary = fieldErrors.map((field) => `${field.path}: ${field.message}`).join('; ');
  return new AppError('invalid_request', `The ${part} is invalid (${summary}).`, { fieldErrors });
}
