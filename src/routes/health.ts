import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { AppError } from '../errors.js';
import type { AppEnv } from '../http/app-env.js';
import { analyseErrorResponses, optionalKeySecurity } from '../http/error-schemas.js';
import type { ImageModerator } from '../providers/image-moderator.js';
import type { Store } from '../store/store.js';

/** Set by the process when it stops: a draining instance is alive but no longer ready. */
export type Lifecycle = { draining: boolean };

export type HealthDeps = { store: Store; imageModerator: ImageModerator; lifecycle: Lifecycle };

const CheckSchema = z.enum(['ok', 'failed']);

const HealthSchema = z
  .object({ status: z.enum(['ok', 'unavailable']) })
  .openapi('Health', { example: { status: 'ok' } });

const ReadinessSchema = z
  .object({
    status: z.enum(['ok', 'unavailable']),
    checks: z
      .object({
        database: CheckSchema.openapi({
          description: 'The database has been reached, migrated, and answers (on SQLite: its write lock can be taken). `failed` from start-up until then, and during an outage.',
        }),
        local_image_model: CheckSchema.optional().openapi({
          description: 'Only when images are judged by the offline classifier: its model is loaded and has answered.',
        }),
        shutdown: CheckSchema.openapi({ description: '`failed` once the process has been told to stop (SIGTERM) and is finishing its requests.' }),
      })
      .openapi({ description: 'Each check and its result.' }),
    detail: z.string().optional().openapi({ description: 'When unavailable: which checks failed, in words.' }),
  })
  .openapi('Readiness', {
    example: { status: 'unavailable', checks: { database: 'failed', local_image_model: 'ok', shutdown: 'ok' }, detail: 'The database does not answer.' },
  });

export const healthzRoute = createRoute({
  method: 'get',
  path: '/healthz',
  operationId: 'healthz',
  tags: ['Operations'],
  security: optionalKeySecurity,
  summary: 'Liveness: the process is running',
  responses: {
    200: { description: 'Alive.', content: { 'application/json': { schema: HealthSchema } } },
    401: analyseErrorResponses[401],
  },
});

export const readyzRoute = createRoute({
  method: 'get',
  path: '/readyz',
  operationId: 'readyz',
  tags: ['Operations'],
  security: optionalKeySecurity,
  summary: 'Readiness: the database answers and the image classifier is loaded',
  description:
    'Send traffic only while this answers 200. It checks that the database answers, that the offline image model is loaded (when it is the image classifier), and that the process is not shutting down. Paid providers are not called: an outage there gives the PROVIDER_OUTAGE_DECISION answer (`review` by default), not an unready service.',
  responses: {
    200: { description: 'Ready to serve.', content: { 'application/json': { schema: ReadinessSchema, example: { status: 'ok', checks: { database: 'ok', local_image_model: 'ok', shutdown: 'ok' } } } } },
    503: { description: 'Not ready; `checks` says which check failed.', content: { 'application/json': { schema: ReadinessSchema } } },
    401: analyseErrorResponses[401],
  },
});

export function registerHealth(app: OpenAPIHono<AppEnv>, deps: HealthDeps): void {
  app.openapi(healthzRoute, (c) => c.json({ status: 'ok' as const }, 200));
  app.openapi(readyzRoute, async (c) => {
    const failures: string[] = [];
    const database = await deps.store.ping().then(
      () => 'ok' as const,
      (error: unknown) => {
        // The store says whether it is still connecting or has lost the database.
        failures.push(error instanceof AppError && error.code === 'database_unavailable' ? error.detail : 'The database does not answer.');
        return 'failed' as const;
      },
    );
    const modelLoaded = deps.imageModerator.modelLoaded?.();
    if (modelLoaded === false) failures.push('The local image model is not loaded.');
    if (deps.lifecycle.draining) failures.push('The service is shutting down.');
    const checks = {
      database,
      ...(modelLoaded !== undefined && { local_image_model: modelLoaded ? ('ok' as const) : ('failed' as const) }),
      shutdown: deps.lifecycle.draining ? ('failed' as const) : ('ok' as const),
    };
    if (failures.length === 0) return c.json({ status: 'ok' as const, checks }, 200);
    return c.json({ status: 'unavailable' as const, checks, detail: failures.join(' ') }, 503);
  });
}
