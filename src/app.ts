import { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import type { AppEnv } from './http/app-env.js';
import { errorResponse, toAppError, validationError } from './http/error-handler.js';
import { requireApiKey, type ApiKey } from './http/auth.js';
import { auditTrail, observeRequests, requestId, requireDatabase, type Observability } from './http/middleware.js';
import { rateLimit, TokenBuckets } from './http/rate-limit.js';
import type { PublicEndpoint } from './config.js';
import { AppError } from './errors.js';
import { registerRoutes, type RouteDeps } from './routes/index.js';
import type { DatabaseGate } from './store/guarded-store.js';

/** Who may call, how often, and how much at once. */
export type AccessSettings = {
  apiKeys: ApiKey[];
  publicEndpoints: PublicEndpoint[];
  rateLimit: { perSecond: number; burst: number } | null;
};

export type AppDeps = RouteDeps & Observability & { access: AccessSettings; databaseGate: DatabaseGate };

const publicPaths: Record<AccessSettings['publicEndpoints'][number], (path: string) => boolean> = {
  docs: (path) => path === '/openapi.json' || path === '/docs' || path.startsWith('/docs/'),
  health: (path) => path === '/healthz' || path === '/readyz',
  metrics: (path) => path === '/metrics',
  dashboard: (path) => path === '/dashboard',
};

/** Builds the HTTP application from ready dependencies. No I/O of its own. */
export function createApp(deps: AppDeps): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>({
    defaultHook: async (result, c) => {
      if (result.success) return;
      // Keep what we can of an invalid body for the audit row: who asked, and about what.
      const audit = c.get('audit');
      if (audit && result.target === 'json') {
        const raw = (await c.req.json().catch(() => null)) as Record<string, unknown> | null;
        if (raw && typeof raw.user_uuid === 'string') audit.userUuid = raw.user_uuid;
        if (raw && typeof raw.url === 'string') audit.contentIdentifier = raw.url;
      }
      throw validationError(result.error, result.target);
    },
  });

  const isPublic = (path: string) => deps.access.publicEndpoints.some((endpoint) => publicPaths[endpoint](path));
  app.use('*', observeRequests(deps), requestId);
  // The audit trail wraps everything below, so refusals (401, 429, 503) leave their row too.
  app.use('/analyse/*', auditTrail(deps));
  app.use('*', requireApiKey(deps.access.apiKeys, isPublic));
  // Limits are per API key: without keys (loopback development) there is no one to tell apart.
  if (deps.access.rateLimit && deps.access.apiKeys.length > 0) {
    app.use('/analyse/*', rateLimit(new TokenBuckets(deps.access.rateLimit.perSecond, deps.access.rateLimit.burst)));
  }
  // After the key check, so an unknown caller learns nothing about the database.
  app.use('/analyse/*', requireDatabase(deps.databaseGate));
  // Checked while the body streams in, before any JSON parsing buffers it.
  app.use(
    '/analyse/*',
    bodyLimit({
      maxSize: deps.maxBodyBytes,
      onError: () => {
        throw new AppError('body_too_large', `The request body is larger than ${deps.maxBodyBytes} bytes (MAX_BODY_BYTES).`);
      },
    }),
  );
  registerRoutes(app, deps);

  app.notFound((c) => errorResponse(c, new AppError('not_found', `No endpoint ${c.req.method} ${c.req.path}. See /docs.`)));
  app.onError((error, c) => {
    const appError = toAppError(error);
    if (appError.code === 'internal_error') {
      deps.logger.error({ request_id: c.get('requestId'), err: error }, 'unexpected error');
    }
    return errorResponse(c, appError);
  });
  return app;
}
