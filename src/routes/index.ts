import { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../http/app-env.js';
import type { AuditDeps } from '../http/middleware.js';
import { securitySchemes } from '../http/error-schemas.js';
import type { ImageAnalysisDeps } from '../moderation/analyse-image.js';
import type { TextAnalysisDeps } from '../moderation/analyse-text.js';
import type { VideoAnalysisDeps } from '../moderation/analyse-video.js';
import type { Store } from '../store/store.js';
import { analyseImageRoute, registerAnalyseImage } from './analyse-image.js';
import { analyseImagesBatchRoute, registerAnalyseImagesBatch } from './analyse-images-batch.js';
import { analyseTextRoute, registerAnalyseText } from './analyse-text.js';
import { analyseVideoRoute, registerAnalyseVideo } from './analyse-video.js';
import { dashboardRoute, registerDashboard } from './dashboard.js';
import { registerDocs } from './docs.js';
import { healthzRoute, readyzRoute, registerHealth, type HealthDeps } from './health.js';
import { metricsRoute, registerMetrics } from './metrics.js';

/** The one visible list of endpoints. */

export type RouteDeps = ImageAnalysisDeps &
  TextAnalysisDeps &
  VideoAnalysisDeps &
  HealthDeps &
  AuditDeps & { store: Store; maxBodyBytes: number };

/** Every documented route, in the order they appear in the OpenAPI document. */
const documentedRoutes = [analyseImageRoute, analyseImagesBatchRoute, analyseVideoRoute, analyseTextRoute, healthzRoute, readyzRoute, metricsRoute, dashboardRoute];

export function registerRoutes(app: OpenAPIHono<AppEnv>, deps: RouteDeps): void {
  registerAnalyseImage(app, deps);
  registerAnalyseImagesBatch(app, deps);
  registerAnalyseVideo(app, deps);
  registerAnalyseText(app, deps);
  registerHealth(app, deps);
  registerMetrics(app, deps.metrics);
  registerDashboard(app, deps.store);
  registerDocs(app, openApiDocument());
}

/**
 * The OpenAPI 3.1 document, built from the route schemas alone (no dependencies needed), so the
 * running service, `npm run openapi:generate` and the drift test all produce the same text.
 */
export function openApiDocument() {
  const registry = new OpenAPIHono();
  for (const route of documentedRoutes) registry.openAPIRegistry.registerPath(route);
  for (const [name, scheme] of Object.entries(securitySchemes)) registry.openAPIRegistry.registerComponent('securitySchemes', name, scheme);
  return registry.getOpenAPI31Document({
    openapi: '3.1.0',
    info: {
      title: 'Moderation API',
      version: '0.1.0',
      description:
        'Self-hostable content moderation. POST an image URL, a batch of images, a video URL or a message and get `pass`, `review` or `flagged` with a reason. Identical and near-identical content already judged is answered from the store without a provider call. Every /analyse request leaves one row in the moderation_log table, and GET /dashboard draws daily figures from it. When the service is configured with API_KEYS, send a key with Authorize.',
      license: { name: 'MIT' },
    },
    tags: [
      { name: 'Analyse', description: 'Moderation decisions.' },
      { name: 'Operations', description: 'Health checks for orchestrators and load balancers, metrics for Prometheus, and the dashboard.' },
    ],
  });
}
