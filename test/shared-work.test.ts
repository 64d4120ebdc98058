import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Deps } from '../src/deps.js';
import type { ContentServer } from './helpers/content-server.js';
import { startImageService, type ImageService } from './helpers/image-service.js';
import { databaseBackends, type TestDatabase } from './helpers/databases.js';
import { patternImage, resizedRecompressed } from './helpers/images.js';
import { failureBody, type FakeSightengine } from './fakes/fake-sightengine.js';

/** Concurrent requests for the same content share one download and one provider call. */


describe.each(databaseBackends)('shared in-flight work on $name', ({ name, create, available }) => {
  // Skipped only when no MySQL server is reachable and REQUIRE_MYSQL is not set (see helpers/databases.ts).
  describe.skipIf(!available)(name, () => {
    let database: TestDatabase;
    let fake: FakeSightengine;
    let content: ContentServer;
    let deps: Deps;

    let service: ImageService;
    const post = (url: string) => service.post('/analyse/image', { url, user_uuid: 'u' });

    /** Serves `body` only after `ms`, so every request of a burst is in flight together. */
    const serveSlowly = (path: string, body: Buffer, ms = 300) =>
      content.handle(path, (_request, response) => {
        setTimeout(() => response.writeHead(200, { 'content-type': 'image/jpeg' }).end(body), ms);
      });

    beforeAll(async () => {
      database = await create();
      service = await startImageService(database);
      ({ content, fake, deps } = service);
    });

    afterAll(async () => {
      await service?.close();
      await database?.drop();
    });

    it('makes one download and one provider call for 20 concurrent requests of the same URL', async () => {
      const path = '/burst.jpg';
      const url = serveSlowly(path, await patternImage(51));
      const before = { calls: fake.callCount, rows: await database.countRows('moderation_log') };
      const responses = await Promise.all(Array.from({ length: 20 }, () => post(url)));
      expect(fake.callCount - before.calls).toBe(1);
      expect(content.hits(path)).toBe(1);
      expect(responses.filter((r) => r.body.is_duplicate === false)).toHaveLength(1);
      expect(responses.filter((r) => r.body.is_duplicate === true && r.body.source === 'cache_exact')).toHaveLength(19);
      expect(new Set(responses.map((r) => r.body.decision))).toEqual(new Set(['pass']));
      expect(new Set(responses.map((r) => r.body.request_id)).size).toBe(20);
      expect((await database.countRows('moderation_log')) - before.rows).toBe(20);
    });

    it('makes one provider call for the same bytes arriving at different URLs together', async () => {
      const image = await patternImage(52);
      const before = fake.callCount;
      const responses = await Promise.all([1, 2, 3, 4, 5].map((i) => post(serveSlowly(`/mirror-${i}.jpg`, image, 100))));
      expect(fake.callCount - before).toBe(1);
      expect(responses.filter((r) => r.body.is_duplicate)).toHaveLength(4);
    });

    it('lets a near-identical copy wait for the judgement of its original instead of paying twice', async () => {
      const original = await patternImage(53);
      fake.enqueue({ kind: 'delay', ms: 400 });
      const before = fake.callCount;
      const [first, second] = await Promise.all([
        post(content.serve('/album/full.jpg', original)),
        post(content.serve('/album/thumb.jpg', await resizedRecompressed(original, 0.5))),
      ]);
      expect(fake.callCount - before).toBe(1);
      const copies = [first, second].filter((r) => r.body.source === 'cache_near');
      expect(copies).toHaveLength(1);
      expect(copies[0]?.body).toMatchObject({ is_duplicate: true, decision: 'pass' });
      expect(copies[0]?.body.similar_items[0].url).toMatch(/\/album\/(full|thumb)\.jpg$/);
    });

    it('gives a provider failure to every waiter, and caches nothing', async () => {
      const url = serveSlowly('/outage.jpg', await patternImage(54));
      fake.enqueue({ kind: 'json', status: 401, body: failureBody('credentials_error', 1, 'Incorrect API user or secret') });
      const before = fake.callCount;
      const responses = await Promise.all(Array.from({ length: 8 }, () => post(url)));
      expect(fake.callCount - before).toBe(1);
      for (const response of responses) {
        expect(response.status).toBe(200);
        expect(response.body).toMatchObject({ decision: 'review', source: 'error', is_duplicate: false });
      }
      const after = await post(url);
      expect(after.body).toMatchObject({ decision: 'pass', source: 'provider', is_duplicate: false });
      expect(fake.callCount - before).toBe(2);
    });

    it('gives a download failure to every waiter as its own 400', async () => {
      content.handle('/gone.jpg', (_request, response) => {
        setTimeout(() => response.writeHead(404).end('gone'), 200);
      });
      const responses = await Promise.all(Array.from({ length: 5 }, () => post(`${content.origin}/gone.jpg`)));
      expect(content.hits('/gone.jpg')).toBe(1);
      for (const response of responses) expect(response).toMatchObject({ status: 400, body: { code: 'fetch_failed' } });
      expect(deps.inFlight.byUrl.size).toBe(0);
    });
  });
});
