import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { buildDeps, type Deps } from '../src/deps.js';
import { startContentServer, type ContentServer } from './helpers/content-server.js';
import { startImageService, type ImageService, type Json } from './helpers/image-service.js';
import { createSqliteDatabase, databaseBackends, type TestDatabase } from './helpers/databases.js';
import { flatImage, patternImage, resizedRecompressed } from './helpers/images.js';
import { failureBody, lowScores, startFakeSightengine, type FakeSightengine } from './fakes/fake-sightengine.js';

/** POST /analyse/image end to end: real HTTP fetches, real sharp, a real database, a fake provider. */

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');


describe.each(databaseBackends)('POST /analyse/image on $name', ({ name, create, available }) => {
  // Skipped only when no MySQL server is reachable and REQUIRE_MYSQL is not set (see helpers/databases.ts).
  describe.skipIf(!available)(name, () => {
    let database: TestDatabase;
    let fake: FakeSightengine;
    let content: ContentServer;
    let deps: Deps;
    let app: ReturnType<typeof createApp>;
    const flaggedContent = new Set<string>();
    let requestsMade = 0;

    let service: ImageService;

    const post = async (body: unknown, raw?: string) => {
      requestsMade++;
      return service.post('/analyse/image', body, raw);
    };
    const logRow = (requestId: string) => deps.store.findLogByRequestId(requestId);

    beforeAll(async () => {
      database = await create();
      service = await startImageService(database, {
        scorer: (media) =>
          flaggedContent.has(sha256(media))
            ? { ...lowScores(), weapon: { classes: { firearm: 0.96, firearm_gesture: 0.01, firearm_toy: 0.01, knife: 0.02 } } }
            : lowScores(),
      });
      ({ content, fake, deps, app } = service);
    });

    afterAll(async () => {
      await service?.close();
      await database?.drop();
    });

    it('judges a new image once, then answers the same URL, the same bytes elsewhere and a resized copy from the store', async () => {
      const original = await patternImage(1);
      const url = content.serve('/photos/one.jpg', original, 'image/jpeg');

      const first = await post({ url, user_uuid: 'user-a' });
      expect(first.status).toBe(200);
      expect(first.body).toMatchObject({ is_duplicate: false, decision: 'pass', source: 'provider', provider: 'sightengine', sha256: sha256(original) });
      expect(first.body.phash).toMatch(/^[0-9a-f]{64}$/);
      expect(fake.callCount).toBe(1);
      expect(fake.requests[0]?.media?.bytes.equals(original)).toBe(true);

      const again = await post({ url, user_uuid: 'user-a' });
      expect(again.body).toMatchObject({ is_duplicate: true, decision: 'pass', source: 'cache_exact', phash: first.body.phash });

      const mirrored = await post({ url: content.serve('/mirror/copy.jpg', original), user_uuid: 'user-b' });
      expect(mirrored.body).toMatchObject({ is_duplicate: true, source: 'cache_exact', sha256: sha256(original) });

      const resized = await resizedRecompressed(original);
      const near = await post({ url: content.serve('/photos/one-small.jpg', resized), user_uuid: 'user-c' });
      expect(near.body).toMatchObject({ is_duplicate: true, decision: 'pass', source: 'cache_near', sha256: sha256(resized) });
      expect(near.body.similar_items[0]).toMatchObject({ url, decision: 'pass' });
      expect(near.body.similar_items[0].similarity).toBeLessThanOrEqual(6);

      expect(fake.callCount).toBe(1);
      const row = await logRow(near.body.request_id);
      expect(row).toMatchObject({ userUuid: 'user-c', source: 'cache_near', decision: 'pass', httpStatus: 200, sha256: sha256(resized) });
      expect(row?.matchedDistance).toBe(near.body.similar_items[0].similarity);
    });

    it('sends an unrelated image to the provider', async () => {
      const before = fake.callCount;
      const response = await post({ url: content.serve('/photos/two.jpg', await patternImage(2)), user_uuid: 'user-a' });
      expect(response.body).toMatchObject({ is_duplicate: false, source: 'provider' });
      expect(fake.callCount).toBe(before + 1);
    });

    it('flags an image the provider flags, and flags its re-encoded copy without asking again', async () => {
      const bad = await patternImage(3, { format: 'png' });
      flaggedContent.add(sha256(bad));
      const first = await post({ url: content.serve('/bad.png', bad), user_uuid: 'user-x' });
      expect(first.body).toMatchObject({ decision: 'flagged', is_duplicate: false });
      expect(first.body.review_details.weapon).toMatchObject({ level: 'flagged', score: 0.96 });
      expect(first.body.reason).toContain('weapon');

      const calls = fake.callCount;
      const copy = await post({ url: content.serve('/bad-copy.jpg', await resizedRecompressed(bad, 0.5)), user_uuid: 'user-y' });
      expect(copy.body).toMatchObject({ decision: 'flagged', is_duplicate: true, source: 'cache_near' });
      expect(copy.body.review_details.weapon.level).toBe('flagged');
      expect(copy.body.similar_items[0].labels).toEqual(['weapon']);
      expect(fake.callCount).toBe(calls);
    });

    it('never lets a flat picture borrow a neighbour\'s pass', async () => {
      const calls = fake.callCount;
      await post({ url: content.serve('/flat-1.png', await flatImage({ r: 200, g: 200, b: 200 })), user_uuid: 'u' });
      const second = await post({ url: content.serve('/flat-2.png', await flatImage({ r: 201, g: 199, b: 200 })), user_uuid: 'u' });
      expect(second.body.is_duplicate).toBe(false);
      expect(fake.callCount).toBe(calls + 2);
    });

    it('judges images smaller than the hash grid without a perceptual hash, and still dedupes their bytes', async () => {
      const tiny = await patternImage(4, { width: 8, height: 8, format: 'png' });
      const url = content.serve('/tiny.png', tiny);
      const first = await post({ url, user_uuid: 'u' });
      expect(first.body).toMatchObject({ phash: null, is_duplicate: false, source: 'provider' });
      const second = await post({ url, user_uuid: 'u' });
      expect(second.body).toMatchObject({ phash: null, is_duplicate: true, source: 'cache_exact' });
    });

    it('holds the image for review when the provider fails, and caches nothing', async () => {
      const image = await patternImage(5);
      const url = content.serve('/outage.jpg', image);
      fake.enqueue({ kind: 'json', status: 401, body: failureBody('credentials_error', 1, 'Incorrect API user or secret') });
      const failed = await post({ url, user_uuid: 'u' });
      expect(failed.status).toBe(200);
      expect(failed.body).toMatchObject({ decision: 'review', source: 'error', is_duplicate: false });
      expect(failed.body.reason).toMatch(/could not judge/);
      const row = await logRow(failed.body.request_id);
      expect(row).toMatchObject({ decision: 'review', source: 'error', httpStatus: 200 });
      expect(row?.error).toContain('credentials_error');

      const retried = await post({ url, user_uuid: 'u' });
      expect(retried.body).toMatchObject({ decision: 'pass', source: 'provider', is_duplicate: false });
    });

    it.each([
      ['a 404', async () => content.origin + '/missing.jpg', 'fetch_failed'],
      ['a corrupt JPEG', async () => content.serve('/corrupt.jpg', Buffer.concat([(await patternImage(6)).subarray(0, 600), Buffer.alloc(400, 7)])), 'undecodable_media'],
      ['an HTML page', async () => content.serve('/page.jpg', Buffer.from('<!doctype html><html><body>hi</body></html>'), 'image/jpeg'), 'unsupported_media_type'],
      ['an unreachable host', async () => 'http://127.0.0.1:9/nothing.jpg', 'fetch_failed'],
      ['a private address', async () => 'http://10.0.0.1/x.jpg', 'url_not_allowed'],
      ['a non-http scheme', async () => 'ftp://example.com/x.jpg', 'url_not_allowed'],
    ])('answers 400 for %s, with a message and a log row', async (_label, makeUrl, code) => {
      const calls = fake.callCount;
      const url = await makeUrl();
      const response = await post({ url, user_uuid: 'user-bad' });
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ code, request_id: response.requestId });
      expect(response.body.detail.length).toBeGreaterThan(10);
      expect(fake.callCount).toBe(calls);
      const row = await logRow(response.body.request_id);
      expect(row).toMatchObject({ httpStatus: 400, userUuid: 'user-bad', contentIdentifier: url, decision: null });
      expect(row?.error).toContain(code);
    });

    it.each([
      ['a missing url', { user_uuid: 'u' }, undefined, ['url']],
      ['a bad url and no user', { url: 'not a url' }, undefined, ['url', 'user_uuid']],
      ['a non-object body', [1, 2], undefined, ['(body)']],
      ['invalid JSON', null, '{"url": ', []],
    ])('answers 422 for %s, listing the fields, with a log row', async (_label, body, raw, fields) => {
      const response = await post(body, raw);
      expect(response.status).toBe(422);
      expect(response.body.code).toBe('invalid_request');
      expect((response.body.errors ?? []).map((e: Json) => e.path).sort()).toEqual([...fields].sort());
      const row = await logRow(response.body.request_id);
      expect(row).toMatchObject({ httpStatus: 422, contentType: 'image' });
    });

    it('never lets an animated image borrow a pass by its first frame', async () => {
      const still = await patternImage(8, { format: 'png' });
      await post({ url: content.serve('/still.png', still), user_uuid: 'u' });
      const animated = await sharp([still, await patternImage(9, { format: 'png' })], { join: { animated: true } }).gif().toBuffer();
      const calls = fake.callCount;
      const response = await post({ url: content.serve('/animated.gif', animated), user_uuid: 'u' });
      expect(response.body).toMatchObject({ is_duplicate: false, source: 'provider' });
      expect(response.body.similar_items?.[0]?.similarity).toBeLessThanOrEqual(6);
      expect(fake.callCount).toBe(calls + 1);
    });

    it('answers 422, not 500, for a body that is not sent as JSON', async () => {
      requestsMade++;
      const response = await app.request('/analyse/image', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'url=https://example.com/a.jpg&user_uuid=u',
      });
      expect(response.status).toBe(422);
      expect(await response.json()).toMatchObject({ code: 'invalid_request', detail: expect.stringContaining('application/json') });
    });

    it('has written exactly one moderation_log row for every request made above', async () => {
      expect(await database.countRows('moderation_log')).toBe(requestsMade);
    });

    it('answers unknown paths with the same error shape', async () => {
      const response = await app.request('/analyse/nothing', { method: 'POST' });
      expect(response.status).toBe(404);
      expect(await response.json()).toMatchObject({ code: 'not_found' });
    });
  });
});

describe('POST /analyse/image with the local classifier, then SightEngine', () => {
  it('judges offline by default, caches it, and judges again once SightEngine is configured', async () => {
    const database = await createSqliteDatabase();
    const content = await startContentServer();
    const fake = await startFakeSightengine();
    const local = await buildDeps(loadConfig({ LOG_LEVEL: 'error', DATABASE_URL: database.url, FETCH_ALLOW_PRIVATE: '127.0.0.1/32' }));
    const remote = await buildDeps(
      loadConfig({
        LOG_LEVEL: 'error',
        DATABASE_URL: database.url,
        FETCH_ALLOW_PRIVATE: '127.0.0.1/32',
        SIGHTENGINE_API_USER: fake.apiUser,
        SIGHTENGINE_API_SECRET: fake.apiSecret,
        SIGHTENGINE_BASE_URL: fake.baseUrl,
      }),
    );
    try {
      const url = content.serve('/x.jpg', await patternImage(7));
      const ask = async (deps: Deps) =>
        (await (
          await createApp(deps).request('/analyse/image', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ url, user_uuid: 'u' }),
          })
        ).json()) as Json;

      const first = await ask(local);
      expect(first).toMatchObject({ decision: 'pass', provider: 'nsfwjs', source: 'local', is_duplicate: false });
      expect(await ask(local)).toMatchObject({ provider: 'nsfwjs', source: 'cache_exact', is_duplicate: true });

      // The local model sees no weapons or gore: its pass is not reused by SightEngine.
      expect(await ask(remote)).toMatchObject({ provider: 'sightengine', source: 'provider', is_duplicate: false });
      expect(await ask(remote)).toMatchObject({ provider: 'sightengine', source: 'cache_exact', is_duplicate: true });
      expect(fake.callCount).toBe(1);
    } finally {
      await local.close();
      await remote.close();
      await fake.close();
      await content.close();
      await database.drop();
    }
  });
});
