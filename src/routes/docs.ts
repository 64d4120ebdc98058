import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../http/app-env.js';

/**
 * GET /openapi.json and the Swagger UI at GET /docs, served from the swagger-ui-dist package so the
 * page works on a machine without internet access (no CDN).
 */

const swaggerDirectory = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

const assets: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

const page = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Moderation API</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
  <link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script src="/docs/init.js"></script>
</body>
</html>
`;

// A separate file rather than an inline script, so a strict Content-Security-Policy can forbid inline code.
const initScript = `window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', deepLinking: true });\n`;

export function registerDocs(app: OpenAPIHono<AppEnv>, document: object): void {
  const cache = new Map<string, Buffer>();

  app.get('/openapi.json', (c) => c.json(document));
  app.get('/docs', (c) => c.html(page));
  app.get('/docs/init.js', (c) => c.body(initScript, 200, { 'content-type': 'text/javascript; charset=utf-8' }));
  app.get('/docs/:asset', async (c) => {
    const name = c.req.param('asset');
    const contentType = assets[name];
    if (!contentType) return c.notFound();
    let content = cache.get(name);
    if (!content) {
      content = await readFile(join(swaggerDirectory, name));
      cache.set(name, content);
    }
    return c.body(new Uint8Array(content), 200, { 'content-type': contentType, 'cache-control': 'public, max-age=86400' });
  });
}
