import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { buildDeps, type Deps } from '../src/deps.js';
import type { ImageModerator } from '../src/providers/image-moderator.js';
import { failureBody } from './fakes/fake-sightengine.js';
import { startFakeGemini, type FakeGemini } from './fakes/fake-gemini.js';
import { createSqliteDatabase, databaseBackends, type TestDatabase } from './helpers/databases.js';
import { startImageService, type ImageService } from './helpers/image-service.js';
import { patternImage } from './helpers/images.js';
import { captureLogs, type LogCapture } from './helpers/log-capture.js';
import { makeVideo } from './helpers/videos.js';

/** Request logs, /metrics and /readyz, read back from real requests through the app. */

/** The value of one sample of the Prometheus text format, matched on its exact label set. */
function sample(metrics: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of metrics.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((pair) => [pair[1], pair[2]]));
    const wanted = Object.entries(labels);
    if (wanted.length === Object.keys(found).length && wanted.every(([key, value]) => found[key] === value)) return Number(match[3]);
  }
  return undefined;
}

const KEY = 'alice-key-0123456789abcdef';

describe('request logs', () => {
  let database: TestDatabase;
  let gemini: FakeGemini;
  let service: ImageService;
  let logs: LogCapture;

  beforeAll(async () => {
    database = await createSqliteDatabase();
    gemini = await startFakeGemini();
    logs = captureLogs();
    service = await startImageService(database, {
      env: { API_KEYS: `alice:${KEY}`, GEMINI_API_KEY: gemini.apiKey, GEMINI_BASE_URL: gemini.baseUrl },
      logger: logs.logger,
    });
  });

  afterAll(async () => {
    await service?.close();
    await gemini?.close();
    await database?.drop();
  });

  const request = (path: string, init: RequestInit = {}) => service.app.request(path, init);
  const post = (path: string, body: unknown, headers: Record<string, string>) =>
    request(path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  it('writes one JSON line per request with the route pattern, the status and, on /analyse, how it was decided', async () => {
    const message = 'Meet me behind the old mill at seven, bring the parcel';
    const text = await post('/analyse/text', { text: message, user_uuid: 'u-1', thread_context: ['earlier words'] }, { authorization: `Bearer ${KEY}` });
    expect(text.status).toBe(200);
    const url = service.content.serve('/logs/one.jpg', await patternImage(301), 'image/jpeg');
    const image = await post('/analyse/image', { url, user_uuid: 'u-1' }, { 'x-api-key': KEY });
    expect(image.status).toBe(200);
    const refused = await request('/analyse/text?token=query-secret-value', { method: 'POST' });
    expect(refused.status).toBe(401);
    expect((await request('/nowhere/at/all?x=1')).status).toBe(401);
    expect((await request('/docs/init.js')).status).toBe(200);

    const lines = logs.lines();
    expect(lines).toHaveLength(5);
    expect(lines[0]).toMatchObject({
      level: 'info',
      request_id: text.headers.get('x-request-id'),
      method: 'POST',
      route: '/analyse/text',
      status: 200,
      client: 'alice',
      content_type: 'text',
      decision: 'pass',
      source: 'provider',
      provider: 'gemini',
    });
    expect(lines[0]?.latency_ms).toEqual(expect.any(Number));
    expect(typeof lines[0]?.time).toBe('string');
    expect(lines[1]).toMatchObject({
      request_id: image.headers.get('x-request-id'),
      route: '/analyse/image',
      status: 200,
      client: 'alice',
      content_type: 'image',
      decision: 'pass',
      source: 'provider',
      provider: 'sightengine',
    });
    expect(lines[2]).toMatchObject({ route: '/analyse/text', status: 401, content_type: 'text' });
    expect(lines[2]).not.toHaveProperty('client');
    expect(lines[3]).toMatchObject({ method: 'GET', route: 'unmatched', status: 401 });
    // The pattern that matched first, not /docs/:asset which also matches.
    expect(lines[4]).toMatchObject({ route: '/docs/init.js', status: 200 });
    expect(lines[4]).not.toHaveProperty('content_type');
  });

  it('never shows API keys, provider credentials, message text, URLs or query strings', async () => {
    await post('/analyse/text', { text: 'another quite distinctive sentence about llamas', user_uuid: 'u-2' }, { 'x-api-key': KEY });
    const output = logs.text();
    expect(output.length).toBeGreaterThan(0);
    for (const secret of [KEY, gemini.apiKey, service.fake.apiSecret, service.fake.apiUser, 'Bearer', 'behind the old mill', 'earlier words', 'llamas', 'query-secret-value', '/logs/one.jpg', service.content.origin]) {
      expect(output, secret).not.toContain(secret);
    }
  });

  it('logs failures at level error, with the stack of an unexpected one, and still nothing secret', async () => {
    // A store closed under the app: the lookup fails unexpectedly, then the audit row cannot be
    // written, and with the spool off it is kept nowhere.
    const other = await createSqliteDatabase();
    const capture = captureLogs();
    const deps = await buildDeps(loadConfig({ DATABASE_URL: other.url, AUDIT_SPOOL_MAX_BYTES: '0', IMAGE_PROVIDER: 'sightengine', SIGHTENGINE_API_USER: 'u', SIGHTENGINE_API_SECRET: 'fake-secret-never-logged', SIGHTENGINE_BASE_URL: 'http://127.0.0.1:9/1.0' }), {
      logger: capture.logger,
    });
    try {
      await deps.store.close();
      const response = await createApp(deps).request('/analyse/text', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text: 'hello', user_uuid: 'u' }),
      });
      expect(response.status).toBe(503);
      const lines = capture.lines();
      const unexpected = lines.find((line) => line.msg === 'unexpected error');
      expect(unexpected).toMatchObject({ level: 'error', request_id: response.headers.get('x-request-id') });
      expect(unexpected?.err?.stack).toEqual(expect.stringContaining('Error'));
      expect(lines.find((line) => line.msg === 'moderation_log write failed')).toMatchObject({ level: 'error' });
      expect(lines.at(-1)).toMatchObject({ level: 'warn', route: '/analyse/text', status: 503 });
      expect(capture.text()).not.toContain('fake-secret-never-logged');
      expect(capture.text()).not.toContain('"hello"');
    } finally {
      await deps.close();
      await other.drop();
    }
  });

  it('serves /metrics without a key while PUBLIC_ENDPOINTS names it, and asks for one otherwise', async () => {
    expect((await request('/metrics')).status).toBe(200);
    const other = await createSqliteDatabase();
    const deps = await buildDeps(
      loadConfig({ LOG_LEVEL: 'error', DATABASE_URL: other.url, API_KEYS: `alice:${KEY}`, PUBLIC_ENDPOINTS: 'docs,health', IMAGE_PROVIDER: 'sightengine', SIGHTENGINE_API_USER: 'u', SIGHTENGINE_API_SECRET: 's' }),
    );
    try {
      const app = createApp(deps);
      expect((await app.request('/metrics')).status).toBe(401);
      expect((await app.request('/metrics', { headers: { 'x-api-key': KEY } })).status).toBe(200);
    } finally {
      await deps.close();
      await other.drop();
    }
  });
});

describe.each(databaseBackends)('metrics on $name', ({ name, create, available }) => {
  describe.skipIf(!available)(name, () => {
    let database: TestDatabase;
    let service: ImageService;
    let folder: string;

    beforeAll(async () => {
      database = await create();
      folder = mkdtempSync(join(tmpdir(), 'metrics-test-'));
      service = await startImageService(database, { env: { DATABASE_POOL_SIZE: '3' } });
    });

    afterAll(async () => {
      await service?.close();
      await database?.drop();
      if (folder) rmSync(folder, { recursive: true, force: true });
    });

    const scrape = async () => {
      const response = await service.app.request('/metrics');
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      return response.text();
    };
    /** How much each sample grew while `work` ran. */
    const growth = async (work: () => Promise<unknown>) => {
      const before = await scrape();
      await work();
      const after = await scrape();
      return (name: string, labels: Record<string, string> = {}) => (sample(after, name, labels) ?? 0) - (sample(before, name, labels) ?? 0);
    };

    it('counts requests, decisions, provider calls and the answers the store gave instead', async () => {
      const url = service.content.serve('/metrics/one.jpg', await patternImage(401), 'image/jpeg');
      const grew = await growth(async () => {
        const text = await service.post('/analyse/text', { text: 'See you at the match tomorrow', user_uuid: 'u' });
        expect(text.body).toMatchObject({ source: 'local', provider: 'local' });
        expect((await service.post('/analyse/image', { url, user_uuid: 'u' })).body).toMatchObject({ source: 'provider', decision: 'pass' });
        expect((await service.post('/analyse/image', { url, user_uuid: 'u' })).body).toMatchObject({ source: 'cache_exact', decision: 'pass' });
      });

      expect(grew('moderation_http_requests_total', { method: 'POST', route: '/analyse/image', status: '200' })).toBe(2);
      expect(grew('moderation_http_requests_total', { method: 'POST', route: '/analyse/text', status: '200' })).toBe(1);
      expect(grew('moderation_http_request_duration_seconds_count', { method: 'POST', route: '/analyse/image', status: '200' })).toBe(2);
      expect(grew('moderation_decisions_total', { content_type: 'text', source: 'local', decision: 'pass' })).toBe(1);
      expect(grew('moderation_decisions_total', { content_type: 'image', source: 'provider', decision: 'pass' })).toBe(1);
      expect(grew('moderation_decisions_total', { content_type: 'image', source: 'cache_exact', decision: 'pass' })).toBe(1);
      expect(grew('moderation_provider_calls_avoided_total', { content_type: 'image', via: 'cache_exact' })).toBe(1);
      expect(grew('moderation_provider_calls_total', { provider: 'sightengine', outcome: 'success' })).toBe(1);
      expect(grew('moderation_provider_calls_total', { provider: 'local', outcome: 'success' })).toBe(1);
      expect(grew('moderation_provider_call_duration_seconds_count', { provider: 'sightengine' })).toBe(1);
      expect(grew('moderation_provider_errors_total', { provider: 'sightengine', kind: 'invalid_response' })).toBe(0);

      const metrics = await scrape();
      expect(sample(metrics, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
      expect(sample(metrics, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
      expect(sample(metrics, 'moderation_http_requests_total', { method: 'GET', route: '/metrics', status: '200' })).toBeGreaterThan(0);
    });

    it('counts provider failures by kind, and retries', async () => {
      const retried = service.content.serve('/metrics/retried.jpg', await patternImage(402), 'image/jpeg');
      const failed = service.content.serve('/metrics/failed.jpg', await patternImage(403), 'image/jpeg');
      const grew = await growth(async () => {
        // A proxy's 502 page is retried; the second attempt succeeds.
        service.fake.enqueue({ kind: 'html', status: 502 });
        expect((await service.post('/analyse/image', { url: retried, user_uuid: 'u' })).body).toMatchObject({ source: 'provider' });
        // Bad credentials are not retried: the image is held for review.
        service.fake.enqueue({ kind: 'json', status: 401, body: failureBody('credentials_error', 1, 'Incorrect API user or API secret') });
        expect((await service.post('/analyse/image', { url: failed, user_uuid: 'u' })).body).toMatchObject({ source: 'error', decision: 'review' });
      });
      expect(grew('moderation_provider_retries_total', { provider: 'sightengine' })).toBe(1);
      expect(grew('moderation_provider_calls_total', { provider: 'sightengine', outcome: 'error' })).toBe(2);
      expect(grew('moderation_provider_calls_total', { provider: 'sightengine', outcome: 'success' })).toBe(1);
      expect(grew('moderation_provider_errors_total', { provider: 'sightengine', kind: 'invalid_response' })).toBe(1);
      expect(grew('moderation_provider_errors_total', { provider: 'sightengine', kind: 'credentials_error' })).toBe(1);
      expect(grew('moderation_decisions_total', { content_type: 'image', source: 'error', decision: 'review' })).toBe(1);
      expect(grew('moderation_provider_calls_avoided_total', { content_type: 'image', via: 'cache_exact' })).toBe(0);
    });

    it('counts a batch item that shares another item’s provider call as in_flight', async () => {
      const url = service.content.serve('/metrics/twice.jpg', await patternImage(404), 'image/jpeg');
      const grew = await growth(async () => {
        const batch = await service.post('/analyse/images/batch', { images: [{ url, user_uuid: 'u' }, { url, user_uuid: 'u' }] });
        expect(batch.body.results.map((item: { source: string }) => item.source)).toEqual(['provider', 'cache_exact']);
      });
      expect(grew('moderation_http_requests_total', { method: 'POST', route: '/analyse/images/batch', status: '200' })).toBe(1);
      expect(grew('moderation_decisions_total', { content_type: 'image', source: 'provider', decision: 'pass' })).toBe(1);
      expect(grew('moderation_decisions_total', { content_type: 'image', source: 'cache_exact', decision: 'pass' })).toBe(1);
      expect(grew('moderation_provider_calls_avoided_total', { content_type: 'image', via: 'in_flight' })).toBe(1);
      expect(grew('moderation_provider_calls_avoided_total', { content_type: 'image', via: 'cache_exact' })).toBe(0);
      expect(grew('moderation_provider_calls_total', { provider: 'sightengine', outcome: 'success' })).toBe(1);
    });

    it('times ffprobe and ffmpeg for a video', async () => {
      const video = await makeVideo(join(folder, 'clip.mp4'), [{ source: 'bars', seconds: 2 }]);
      const url = service.content.serve('/metrics/clip.mp4', readFileSync(video), 'video/mp4');
      const grew = await growth(async () => {
        expect((await service.post('/analyse/video', { url, user_uuid: 'u' })).status).toBe(200);
      });
      expect(grew('moderation_ffmpeg_duration_seconds_count', { step: 'probe', outcome: 'ok' })).toBe(1);
      expect(grew('moderation_ffmpeg_duration_seconds_count', { step: 'sample', outcome: 'ok' })).toBe(1);
      expect(grew('moderation_decisions_total', { content_type: 'video', source: 'provider', decision: 'pass' })).toBe(1);
    });

    it(name === 'mysql' ? 'reports the connection pool' : 'reports no pool for the embedded database', async () => {
      const metrics = await scrape();
      if (name === 'mysql') {
        expect(sample(metrics, 'moderation_db_pool_max_connections')).toBe(3);
        const idle = sample(metrics, 'moderation_db_pool_connections', { state: 'idle' }) ?? -1;
        const inUse = sample(metrics, 'moderation_db_pool_connections', { state: 'in_use' }) ?? -1;
        expect(idle).toBeGreaterThanOrEqual(1);
        expect(inUse).toBeGreaterThanOrEqual(0);
        expect(idle + inUse).toBeLessThanOrEqual(3);
        expect(sample(metrics, 'moderation_db_pool_waiting_requests')).toBe(0);
      } else {
        expect(metrics).not.toContain('moderation_db_pool');
      }
    });
  });
});

describe('readiness', () => {
  let database: TestDatabase;
  let deps: Deps;

  beforeAll(async () => {
    database = await createSqliteDatabase();
    // The default configuration: images are judged by the offline model.
    deps = await buildDeps(loadConfig({ LOG_LEVEL: 'error', DATABASE_URL: database.url }));
  });

  afterAll(async () => {
    await deps?.close();
    await database?.drop();
  });

  it('checks the offline image model and says which check failed', async () => {
    const app = createApp(deps);
    const ready = await app.request('/readyz');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ok', checks: { database: 'ok', local_image_model: 'ok', shutdown: 'ok' } });

    deps.lifecycle.draining = true;
    const draining = await app.request('/readyz');
    expect(draining.status).toBe(503);
    expect(await draining.json()).toMatchObject({ checks: { database: 'ok', local_image_model: 'ok', shutdown: 'failed' }, detail: 'The service is shutting down.' });
    deps.lifecycle.draining = false;

    await (deps.imageModerator as ImageModerator & { close(): Promise<void> }).close();
    const unloaded = await app.request('/readyz');
    expect(unloaded.status).toBe(503);
    expect(await unloaded.json()).toEqual({
      status: 'unavailable',
      checks: { database: 'ok', local_image_model: 'failed', shutdown: 'ok' },
      detail: 'The local image model is not loaded.',
    });
    // Liveness is not readiness: the process still answers.
    expect((await app.request('/healthz')).status).toBe(200);
  });

  it('has no model check when a remote provider judges images', async () => {
    const other = await createSqliteDatabase();
    const remote = await buildDeps(loadConfig({ LOG_LEVEL: 'error', DATABASE_URL: other.url, IMAGE_PROVIDER: 'sightengine', SIGHTENGINE_API_USER: 'u', SIGHTENGINE_API_SECRET: 's' }));
    try {
      expect(await (await createApp(remote).request('/readyz')).json()).toEqual({ status: 'ok', checks: { database: 'ok', shutdown: 'ok' } });
    } finally {
      await remote.close();
      await other.drop();
    }
  });
});
