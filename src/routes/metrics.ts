import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../http/app-env.js';
import { analyseErrorResponses, optionalKeySecurity } from '../http/error-schemas.js';
import type { Metrics } from '../metrics.js';

export const metricsRoute = createRoute({
  method: 'get',
  path: '/metrics',
  operationId: 'metrics',
  tags: ['Operations'],
  security: optionalKeySecurity,
  summary: 'Prometheus metrics',
  description:
    'Counters and histograms in the Prometheus text format: requests by route and status, decisions by content type and source, provider calls, errors and retries, calls avoided by the store, ffmpeg run times, database pool use, and the process itself. The README lists every metric.',
  responses: {
    200: {
      description: 'The metrics, in the Prometheus text exposition format 0.0.4.',
      content: {
        'text/plain': {
          schema: z.string().openapi({
            example:
              '# HELP moderation_decisions_total Decisions given\n# TYPE moderation_decisions_total counter\nmoderation_decisions_total{content_type="image",source="cache_exact",decision="pass"} 12\n',
          }),
        },
      },
    },
    401: analyseErrorResponses[401],
  },
});

export function registerMetrics(app: OpenAPIHono<AppEnv>, metrics: Metrics): void {
  app.openapi(metricsRoute, async (c) => c.text(await metrics.render(), 200, { 'content-type': metrics.contentType }));
}
