import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { buildDeps, type Deps } from '../src/deps.js';
import { openApiDocument } from '../src/routes/index.js';
import { createSqliteDatabase, type TestDatabase } from './helpers/databases.js';

describe('OpenAPI document and Swagger UI', () => {
  let database: TestDatabase;
  let deps: Deps;
  let app: ReturnType<typeof createApp>;

  beforeAll(async () => {
    database = await createSqliteDatabase();
    deps = await buildDeps(loadConfig({ LOG_LEVEL: 'error', DATABASE_URL: database.url }));
    app = createApp(deps);
  });

  afterAll(async () => {
    await deps?.close();
    await database?.drop();
  });

  it('matches the committed openapi/openapi.json (run `npm run openapi:generate` after changing a route)', () => {
    const committed = readFileSync(new URL('../openapi/openapi.json', import.meta.url), 'utf8');
    expect(JSON.parse(committed)).toEqual(JSON.parse(JSON.stringify(openApiDocument())));
  });

  it('serves the document, with an example and the error shape for /analyse/image', async () => {
    const response = await app.request('/openapi.json');
    expect(response.status).toBe(200);
    const document = (await response.json()) as Record<string, any>;
    const operation = document.paths['/analyse/image'].post;
    expect(Object.keys(operation.responses).sort()).toEqual(['200', '400', '401', '413', '422', '429', '500', '503']);
    expect(operation.security).toEqual([{ bearerKey: [] }, { headerKey: [] }]);
    expect(Object.keys(document.components.securitySchemes)).toEqual(['bearerKey', 'headerKey']);
    expect(document.components.schemas.AnalyseImageResponse.example).toMatchObject({ decision: 'flagged' });
    expect(document.components.schemas.AnalyseImageRequest.properties.url.description).toMatch(/JPEG/);
    expect(document.components.schemas.Error.required).toEqual(expect.arrayContaining(['request_id', 'code', 'detail']));
    expect(Object.keys(document.paths['/metrics'].get.responses['200'].content)).toEqual(['text/plain']);
  });

  it('serves Swagger UI from local assets only', async () => {
    const page = await (await app.request('/docs')).text();
    const sources = [...page.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1] as string);
    expect(sources.length).toBeGreaterThan(2);
    for (const source of sources) {
      expect(source.startsWith('/docs/')).toBe(true);
      const asset = await app.request(source);
      expect(asset.status, source).toBe(200);
      expect((await asset.arrayBuffer()).byteLength).toBeGreaterThan(10);
    }
    expect(await (await app.request('/docs/init.js')).text()).toContain("url: '/openapi.json'");
    expect((await app.request('/docs/..%2Fpackage.json')).status).toBe(404);
  });

  it('reports liveness and readiness', async () => {
    expect(await (await app.request('/healthz')).json()).toEqual({ status: 'ok' });
    expect(await (await app.request('/readyz')).json()).toEqual({ status: 'ok', checks: { database: 'ok', local_image_model: 'ok', shutdown: 'ok' } });
  });

  it('reports not ready once the database stops answering', async () => {
    const other = await createSqliteDatabase();
    const brokenDeps = await buildDeps(loadConfig({ LOG_LEVEL: 'error', DATABASE_URL: other.url }));
    await brokenDeps.store.close();
    const response = await createApp(brokenDeps).request('/readyz');
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ status: 'unavailable', checks: { database: 'failed' }, detail: 'The database does not answer.' });
    await brokenDeps.close();
    await other.drop();
  });
});
