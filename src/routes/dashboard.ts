import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { dayRange, renderDashboard } from '../dashboard/dashboard-page.js';
import type { AppEnv } from '../http/app-env.js';
import { analyseErrorResponses, analyseSecurity, errorContent } from '../http/error-schemas.js';
import type { Store } from '../store/store.js';

const DASHBOARD_MAX_DAYS = 90;
const DAY_CHOICES = [7, 14, 30, 90];
const TOP_USERS = 10;

const DashboardQuerySchema = z.object({
  days: z.coerce
    .number()
    .int()
    .min(1)
    .max(DASHBOARD_MAX_DAYS)
    .default(14)
    .openapi({ description: `How many UTC days to show, ending today (1-${DASHBOARD_MAX_DAYS}).`, example: 14 }),
});

export const dashboardRoute = createRoute({
  method: 'get',
  path: '/dashboard',
  operationId: 'dashboard',
  tags: ['Operations'],
  security: analyseSecurity,
  summary: 'Dashboard: decisions, cache hits, provider calls saved, latency (HTML)',
  description:
    'A self-contained HTML page (inline CSS and SVG, no script, nothing loaded from elsewhere) drawn from the analyst views over moderation_log: decisions per day, cache hit ratio, provider calls saved, p95 latency, provider failures and the most-flagged users. It shows user ids, so it needs an API key unless PUBLIC_ENDPOINTS lists `dashboard`; a browser cannot send the key, so put the page behind your proxy\'s login or make it public on a private network only.',
  request: { query: DashboardQuerySchema },
  responses: {
    200: { description: 'The dashboard page.', content: { 'text/html': { schema: z.string().openapi({ example: '<!doctype html>…' }) } } },
    401: analyseErrorResponses[401],
    422: errorContent('`days` is not a whole number from 1 to 90 (code invalid_request).', {
      code: 'invalid_request',
      detail: 'The query string is invalid (days: Too big: expected number to be <=90).',
      errors: [{ path: 'days', message: 'Too big: expected number to be <=90' }],
    }),
    500: analyseErrorResponses[500],
  },
});

// The page holds no script: forbid any, and every other load, so a value that slipped through
// escaping still could not run or fetch anything.
const contentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export function registerDashboard(app: OpenAPIHono<AppEnv>, store: Store): void {
  app.openapi(dashboardRoute, async (c) => {
    const { days } = c.req.valid('query');
    const range = dayRange(days, new Date());
    const summary = await store.dashboardSummary(range, { topUsers: TOP_USERS });
    c.header('Content-Security-Policy', contentSecurityPolicy);
    c.header('Cache-Control', 'no-store');
    return c.html(renderDashboard(summary, range, DAY_CHOICES), 200);
  });
}
