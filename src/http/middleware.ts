import { randomUUID } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import { AppError, messageOf } from '../errors.js';
import type { Logger } from '../logging.js';
import type { Metrics } from '../metrics.js';
import type { AuditRecord } from '../moderation/audit-record.js';
import type { AuditLog } from '../store/audit-log.js';
import type { DatabaseGate } from '../store/guarded-store.js';
import type { ContentType, ModerationLogEntry } from '../store/store.js';
import type { AppEnv } from './app-env.js';
import { errorResponse } from './error-handler.js';

export type Observability = { logger: Logger; metrics: Metrics };

/** Every response carries a request id; on /analyse/* it is also the moderation_log key. */
export const requestId: MiddlewareHandler<AppEnv> = async (c, next) => {
  const id = randomUUID();
  c.set('requestId', id);
  await next();
  c.header('X-Request-Id', id);
};

/** The pattern of the endpoint that answered (`/docs/:asset`), never the raw path: bounded, and free of user input. */
function routeOf(c: Context<AppEnv>): string {
  // Middleware is registered for every method ('ALL'); the first route with a method is the endpoint.
  return matchedRoutes(c).find((route) => route.method !== 'ALL')?.path ?? 'unmatched';
}

/**
 * One log line and one set of HTTP metrics per request. The outermost middleware, so it sees the
 * final status (also of refusals and of answers replaced because the audit row failed). On
 * /analyse/* the line repeats what the audit trail gathered for moderation_log; nothing is
 * computed twice, and nothing secret (keys, headers, message text, URLs) is in it.
 */
export function observeRequests({ logger, metrics }: Observability): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = performance.now();
    c.set('startedAt', started);
    await next();
    const latencyMs = performance.now() - started;
    const method = c.req.method;
    const route = routeOf(c);
    const status = c.res.status;
    metrics.httpRequestFinished({ method, route, status }, latencyMs / 1000);

    const audit = c.get('audit');
    const client = c.get('client');
    const fields = {
      request_id: c.get('requestId'),
      method,
      route,
      status,
      latency_ms: Math.round(latencyMs * 10) / 10,
      ...(client !== undefined && { client }),
      ...(audit && {
        content_type: audit.contentType,
        ...(audit.batchId && { batch_id: audit.batchId }),
        ...(audit.decision && { decision: audit.decision }),
        ...(audit.source && { source: audit.source }),
        ...(audit.provider && { provider: audit.provider }),
      }),
    };
    const level = status === 500 ? 'error' : status >= 500 ? 'warn' : 'info';
    logger[level](fields, `${method} ${route} ${status}`);
  };
}

function contentTypeOf(path: string): ContentType {
  if (path.startsWith('/analyse/video')) return 'video';
  if (path.startsWith('/analyse/text')) return 'text';
  return 'image';
}

/**
 * Writes exactly one moderation_log row per /analyse/* request, whatever happened (success,
 * 4xx, 5xx), before the response leaves: into the database, or, when it cannot take the row, into
 * the audit spool. Only a request whose row reaches neither gets a 503 instead of its answer: the
 * service never gives a decision it has no record of.
 */
export function auditTrail(deps: AuditDeps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = c.get('startedAt') ?? performance.now();
    const contentType = contentTypeOf(c.req.path);
    const audit: AuditRecord = { contentType };
    c.set('audit', audit);
    await next();
    if (c.get('auditWrittenByHandler')) return;
    const written = await appendAuditRow(deps, {
      ...audit,
      contentType: audit.contentType ?? contentType,
      requestId: c.get('requestId'),
      httpStatus: c.res.status,
      latencyMs: performance.now() - started,
    });
    if (!written) c.res = errorResponse(c, auditUnavailable());
  };
}

export type AuditDeps = Observability & { auditLog: AuditLog };

/**
 * Writes one moderation_log row (or spools it) and counts its decision; false (and a log line) when
 * it could be kept nowhere, in which case the caller gets no decision and none is counted.
 */
export async function appendAuditRow({ auditLog, logger, metrics }: AuditDeps, entry: ModerationLogEntry & Pick<AuditRecord, 'joinedInFlight'>): Promise<boolean> {
  try {
    await auditLog.write(entry);
  } catch (error) {
    logger.error({ request_id: entry.requestId, error: messageOf(error) }, 'moderation_log write failed');
    return false;
  }
  if (entry.decision && entry.source) {
    metrics.decided({ contentType: entry.contentType, decision: entry.decision, source: entry.source, joinedInFlight: entry.joinedInFlight });
  }
  return true;
}

export function auditUnavailable(): AppError {
  return new AppError('audit_unavailable', 'The audit log could not be written, so the request was not answered. Retry later.');
}

/**
 * Refuses /analyse/* at once while the database is unavailable, before any download or provider
 * call: the answer could be neither looked up nor stored. The refusal still leaves its audit row
 * (in the spool).
 */
export function requireDatabase(gate: DatabaseGate): MiddlewareHandler<AppEnv> {
  return async (_c, next) => {
    const refusal = gate.refusal();
    if (refusal) throw refusal;
    await next();
  };
}
