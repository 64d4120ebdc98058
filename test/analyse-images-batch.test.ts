import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Deps } from '../src/deps.js';
import type { ContentServer } from './helpers/content-server.js';
import { startImageService, type ImageService, type Json } from './helpers/image-service.js';
import { createSqliteDatabase, databaseBackends, type TestDatabase } from './helpers/databases.js';
import { patternImage } from './helpers/images.js';
import type { FakeSightengine } from './fakes/fake-sightengine.js';

/** POST /analyse/images/batch end to end, with a fake SightEngine. */

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

const postBatch = (service: ImageService, body: unknown) => service.post('/analyse/images/batch', body);

describe.each(databaseBackends)('POST /analyse/images/batch on $name', ({ name, create, available }) => {
  // Skipped only when no MySQL server is reachable and REQUIRE_MYSQL is not set (see helpers/databases.ts).
  describe.skipIf(!available)(name, () => {
    let database: TestDatabase;
    let service: ImageService;
    let fake: FakeSightengine;
    let content: ContentServer;
    let deps: Deps;
    let seed = 100;
    const newImage = async (path: string) => content.serve(path, await patternImage(seed++, { width: 320, height: 240 }));

    beforeAll(async () => {
      database = await create();
      service = await startImageService(database);
      ({ content, fake, deps } = service);
    });

    afterAll(async () => {
      await service?.close();
      await database?.drop();
    });

    it('answers in input order under random provider latency, one log row per image with the batch id', async () => {
      const urls = await Promise.all(Array.from({ length: 12 }, (_, i) => newImage(`/order/${i}.jpg`)));
      fake.setLatency(() => Math.floor(Math.random() * 150));
      const rowsBefore = await database.countRows('moderation_log');
      const { status, body } = await postBatch(service, { images: urls.map((url) => ({ url, user_uuid: 'album-owner' })), max_concurrent: 5 });
      fake.setLatency(() => 0);
      expect(status).toBe(200);
      expect(body).toMatchObject({ total_images: 12, processed: 12, max_concurrent: 5 });
      expect(body.results.map((r: Json) => r.url)).toEqual(urls);
      expect(body.results.every((r: Json) => r.status === 'success' && r.decision === 'pass' && r.sha256)).toBe(true);
      expect(new Set(body.results.map((r: Json) => r.request_id)).size).toBe(12);
      expect((await database.countRows('moderation_log')) - rowsBefore).toBe(12);
      for (const result of body.results) {
        expect(await deps.store.findLogByRequestId(result.request_id)).toMatchObject({ batchId: body.batch_id, userUuid: 'album-owner', httpStatus: 200, contentIdentifier: result.url });
      }
    });

    it('keeps going when one image is missing and another is corrupt', async () => {
      const good = [await newImage('/mixed/a.jpg'), await newImage('/mixed/b.jpg')];
      const corrupt = content.serve('/mixed/corrupt.jpg', Buffer.concat([(await patternImage(seed++)).subarray(0, 500), Buffer.alloc(300, 1)]));
      const missing = `${content.origin}/mixed/missing.jpg`;
      const { body } = await postBatch(service, { images: [good[0], missing, corrupt, good[1]].map((url) => ({ url, user_uuid: 'u' })) });
      expect(body).toMatchObject({ total_images: 4, processed: 2, max_concurrent: 5 });
      expect(body.results.map((r: Json) => r.status)).toEqual(['success', 'error', 'error', 'success']);
      expect(body.results[1].error).toMatchObject({ code: 'fetch_failed', detail: expect.stringContaining('404') });
      expect(body.results[2].error).toMatchObject({ code: 'undecodable_media' });
      expect(body.results[1].decision).toBeUndefined();
      expect(await deps.store.findLogByRequestId(body.results[1].request_id)).toMatchObject({ httpStatus: 400, batchId: body.batch_id, error: expect.stringContaining('fetch_failed') });
    });

    it('fetches and judges the same URL once, and the same bytes at another URL once', async () => {
      const bytes = await patternImage(seed++, { width: 320, height: 240 });
      const url = content.serve('/dup/one.jpg', bytes);
      const mirror = content.serve('/dup/mirror.jpg', bytes);
      const before = fake.callCount;
      const { body } = await postBatch(service, { images: [url, url, mirror, url].map((u) => ({ url: u, user_uuid: 'u' })), max_concurrent: 1 });
      expect(fake.callCount - before).toBe(1);
      expect(content.hits('/dup/one.jpg')).toBe(1);
      expect(body.results.map((r: Json) => r.is_duplicate)).toEqual([false, true, true, true]);
      expect(body.results.every((r: Json) => r.sha256 === sha256(bytes))).toBe(true);
      expect(new Set(body.results.map((r: Json) => r.request_id)).size).toBe(4);
    });

    it.each([
      ['no images', { images: [] }, 'images'],
      ['51 images', { images: Array.from({ length: 51 }, (_, i) => ({ url: `https://example.com/${i}.jpg`, user_uuid: 'u' })) }, 'images'],
      ['max_concurrent 0', { images: [{ url: 'https://example.com/a.jpg', user_uuid: 'u' }], max_concurrent: 0 }, 'max_concurrent'],
      ['max_concurrent 11', { images: [{ url: 'https://example.com/a.jpg', user_uuid: 'u' }], max_concurrent: 11 }, 'max_concurrent'],
      ['an item without user_uuid', { images: [{ url: 'https://example.com/a.jpg' }] }, 'images.0.user_uuid'],
    ])('answers 422 for %s, with one log row', async (_label, body, path) => {
      const rowsBefore = await database.countRows('moderation_log');
      const response = await postBatch(service, body);
      expect(response.status).toBe(422);
      expect(response.body.errors.map((e: Json) => e.path)).toContain(path);
      expect((await database.countRows('moderation_log')) - rowsBefore).toBe(1);
    });
  });
});

describe('provider concurrency across batches', () => {
  it('never has more provider calls open than SIGHTENGINE_MAX_CONCURRENT, whatever the batches ask', async () => {
    const database = await createSqliteDatabase();
    const service = await startImageService(database, { env: { SIGHTENGINE_MAX_CONCURRENT: '2' } });
    const { content, fake } = service;
    try {
      const urls = await Promise.all(Array.from({ length: 16 }, async (_, i) => content.serve(`/limit/${i}.jpg`, await patternImage(300 + i, { width: 320, height: 240 }))));
      fake.setLatency(() => 80);
      const batches = await Promise.all([urls.slice(0, 8), urls.slice(8)].map((part) => postBatch(service, { images: part.map((url) => ({ url, user_uuid: 'u' })), max_concurrent: 10 })));
      expect(batches.every((batch) => batch.body.processed === 8)).toBe(true);
      expect(fake.callCount).toBe(16);
      expect(fake.peakConcurrency).toBeLessThanOrEqual(2);
      expect(fake.peakConcurrency).toBe(2);
    } finally {
      await service.close();
      await database.drop();
    }
  });
});
