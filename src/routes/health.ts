import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../http/app-env.js';
import type { Store } from '../store/store.js';

const HealthSchema = z
  .object({ status: z.enum(['ok', 'unavailable']), detail: z.string().optional() })
  .openapi('Health', { example: { status: 'ok' } });

export const healthzRoute = createRoute({
  method: 'get',
  path: '/healthz',
  operationId: 'healthz',
  tags: ['Operations'],
  summary: 'Liveness: the process is running',
  responses: { 200: { description: 'Alive.', content: { 'application/json': { schema: HealthSchema } } } },
});

export const readyzRoute = createRoute({
  method: 'get',
  path: '/readyz',
  operationId: 'readyz',
  tags: ['Operations'],
  summary: 'Readiness: the database answers',
  responses: {
    200: { description: 'Ready to serve.', content: { 'application/json': { schema: HealthSchema } } },
    503: {
      description: 'Not ready (database unreachable).',
      content: { 'application/json': { schema: HealthSchema, example: { status: 'unavailable', detail: 'The database does not answer.' } } },
    },
  },
});

export function registerHealth(app: OpenAPIHono<AppEnv>, store: Store): void {
  app.openapi(healthzRoute, (c) => c.json({ status: 'ok' as const }, 200));
  app.openapi(readyzRoute, async (c) => {
    try {
      await store.ping();
      return c.json({ status: 'ok' as const }, 200);
    } catch {
      return c.json({ status: 'unavailable' as const, detail: 'The database does not answer.' }, 503);
    }
  });
}
