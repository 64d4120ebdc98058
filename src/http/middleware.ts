import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { AppError } from '../errors.js';
import type { AuditRecord } from '../moderation/audit-record.js';
import type { ContentType, ModerationLogEntry, Store } from '../store/store.js';
import type { AppEnv } from './app-env.js';
import { errorResponse } from './error-handler.js';

/** Every response carries a request id; on /analyse/* it is also the moderation_log key. */
export const requestId: MiddlewareHandler<AppEnv> = async (c, next) => {
  const id = randomUUID();
  c.set('requestId', id);
  await next();
  c.header('X-Request-Id', id);
};

function contentTypeOf(path: string): ContentType {
  if (path.startsWith('/analyse/video')) return 'video';
  if (path.startsWith('/analyse/text')) return 'text';
  return 'image';
}

/**
 * Writes exactly one moderation_log row per /analyse/* request, whatever happened (success,
 * 4xx, 5xx), before the response leaves. A request whose row cannot be written gets a 503 instead
 * of its answer: the service never gives a decision it has no record of.
 */
export function auditTrail(store: Store): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = performance.now();
    const audit: AuditRecord = { contentType: contentTypeOf(c.req.path) };
    c.set('audit', audit);
    await next();
    if (c.get('auditWrittenByHandler')) return;
    const written = await appendAuditRow(store, {
      ...audit,
      contentType: audit.contentType ?? contentTypeOf(c.req.path),
      requestId: c.get('requestId'),
      httpStatus: c.res.status,
      latencyMs: performance.now() - started,
    });
    if (!written) c.res = errorResponse(c, auditUnavailable());
  };
}

/** Writes one moderation_log row; false (and a log line) when the store refuses it. */
export async function appendAuditRow(store: Store, entry: ModerationLogEntry): Promise<boolean> {
  try {
    await store.appendLog(entry);
    return true;
  } catch (error) {
    console.error(`[${entry.requestId}] moderation_log write failed:`, error instanceof Error ? error.message : error);
    return false;
  }
}

export function auditUnavailable(): AppError {
  return new AppError('audit_unavailable', 'The audit log could not be written, so the request was not answered. Retry later.');
}
