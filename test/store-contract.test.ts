import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hammingDistance, hashFromHex, type PerceptualHash } from '../src/dedupe/perceptual-hash.js';
import { openStore } from '../src/store/open-store.js';
import type { NewJudgedImage, Store } from '../src/store/store.js';
import { readFileSync } from 'node:fs';
import { splitStatements } from '../src/store/migrate.js';
import { databaseBackends, type TestDatabase } from './helpers/databases.js';
import { realisticHashes, seededRandom } from './helpers/realistic-hashes.js';

/** One contract, both adapters: whatever the engine, the store behaves the same. */

function flipBits(hash: PerceptualHash, count: number, seed: number): PerceptualHash {
  const bits = hash.hex.split('').flatMap((digit) => parseInt(digit, 16).toString(2).padStart(4, '0').split('').map(Number));
  // Spread the flips over distinct positions so the distance is exactly `count`.
  const positions = new Set<number>();
  for (let i = 0; positions.size < count; i++) positions.add((seed * 7919 + i * 104729) % 256);
  for (const position of positions) bits[position] = 1 - (bits[position] as number);
  let hex = '';
  for (let i = 0; i < 256; i += 4) hex += parseInt(bits.slice(i, i + 4).join(''), 2).toString(16);
  return hashFromHex(hex);
}

const randomHash = () => hashFromHex(randomBytes(32).toString('hex'));

function judged(overrides: Partial<NewJudgedImage> = {}): NewJudgedImage {
  return {
    sha256: randomBytes(32).toString('hex'),
    phash: randomHash(),
    lowDetail: false,
    animated: false,
    width: 640,
    height: 480,
    format: 'jpeg',
    decision: 'pass',
    reason: 'no category reached its review threshold',
    labels: {},
    scores: { sexual: 0.01 },
    provider: 'sightengine',
    sourceUrl: 'https://example.com/a.jpg',
    ...overrides,
  };
}

function runMigrationProcess(databaseUrl: string): Promise<number> {
  const script = `import { openStore } from './src/store/open-store.ts';
const store = openStore(process.env.DATABASE_URL, { poolSize: 2 });
await store.migrate();
await store.close();`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      env: { ...process.env, DATABASE_URL: databaseUrl },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    child.on('error', reject);
    child.on('exit', (code) => resolve(code ?? 1));
  });
}

describe.each(databaseBackends)('Store contract on $name', ({ name, create, available }) => {
  // Skipped only when no MySQL server is reachable and REQUIRE_MYSQL is not set (see helpers/databases.ts).
  describe.skipIf(!available)(name, () => {
    let database: TestDatabase;
    let store: Store;

    beforeAll(async () => {
      database = await create();
      // Several instances starting at once must apply each migration exactly once.
      const exitCodes = await Promise.all([1, 2, 3].map(() => runMigrationProcess(database.url)));
      expect(exitCodes).toEqual([0, 0, 0]);
      store = openStore(database.url, { poolSize: 4 });
      await store.migrate();
    });

    afterAll(async () => {
      await store?.close();
      await database?.drop();
    });

    it('stores a judged image and finds it by sha256, hash intact including the top bit', async () => {
      const phash = hashFromHex('f'.repeat(16) + '8000000000000001' + '0'.repeat(15) + '1' + '7fffffffffffffff');
      const image = judged({ phash, decision: 'flagged', labels: { weapon: { score: 0.93, level: 'flagged', threshold: 0.85 } } });
      const { id, created } = await store.saveJudgedImage(image);
      expect(created).toBe(true);
      const found = await store.findImageBySha256(image.sha256);
      expect(found).toMatchObject({ id, sha256: image.sha256, phash: phash.hex, decision: 'flagged', provider: 'sightengine' });
      expect(found?.labels).toEqual(image.labels);
      expect(await store.findImageBySha256('0'.repeat(64))).toBeNull();
    });

    it('keeps the first judgement when the same sha256 is saved twice', async () => {
      const image = judged({ decision: 'pass' });
      const first = await store.saveJudgedImage(image);
      const second = await store.saveJudgedImage({ ...image, decision: 'flagged' });
      expect(second).toEqual({ id: first.id, created: false });
      expect((await store.findImageBySha256(image.sha256))?.decision).toBe('pass');
    });

    it('replaces another provider\'s judgement of the same bytes, and finds neighbours per provider', async () => {
      const phash = randomHash();
      const local = judged({ phash, provider: 'nsfwjs', decision: 'pass' });
      const first = await store.saveJudgedImage(local);
      expect(await store.findSimilarImages(phash, 15, 10, 'sightengine')).toEqual([]);
      expect((await store.findSimilarImages(phash, 15, 10, 'nsfwjs')).map((n) => n.id)).toEqual([first.id]);

      const again = await store.saveJudgedImage({ ...local, provider: 'sightengine', decision: 'flagged', labels: { weapon: { score: 0.9, level: 'flagged', threshold: 0.85 } } });
      expect(again).toEqual({ id: first.id, created: false });
      expect(await store.findImageBySha256(local.sha256)).toMatchObject({ provider: 'sightengine', decision: 'flagged' });
      expect((await store.findSimilarImages(phash, 15, 10, 'sightengine')).map((n) => [n.id, n.decision])).toEqual([[first.id, 'flagged']]);
      expect(await store.findSimilarImages(phash, 15, 10, 'nsfwjs')).toEqual([]);
    });

    it('finds neighbours up to distance 15 with exact distances, closest first', async () => {
      const base = randomHash();
      const distances = [0, 1, 5, 9, 15, 16, 40];
      const ids = new Map<number, number>();
      for (const distance of distances) {
        const saved = await store.saveJudgedImage(judged({ phash: flipBits(base, distance, distance + 1) }));
        ids.set(distance, saved.id);
      }
      const within15 = await store.findSimilarImages(base, 15, 50, 'sightengine');
      expect(within15.map((n) => n.distance)).toEqual([0, 1, 5, 9, 15]);
      expect(within15.map((n) => n.id)).toEqual([0, 1, 5, 9, 15].map((d) => ids.get(d)));
      const within5 = await store.findSimilarImages(base, 5, 50, 'sightengine');
      expect(within5.map((n) => n.distance)).toEqual([0, 1, 5]);
      expect(await store.findSimilarImages(base, 15, 2, 'sightengine')).toHaveLength(2);
    });

    it('lists review and flagged neighbours before closer passes, so a limit never hides them', async () => {
      const base = randomHash();
      for (const [distance, decision] of [[1, 'pass'], [2, 'pass'], [3, 'pass'], [10, 'flagged'], [8, 'review']] as const) {
        await store.saveJudgedImage(judged({ phash: flipBits(base, distance, distance + 50), decision }));
      }
      const found = await store.findSimilarImages(base, 15, 3, 'sightengine');
      expect(found.map((n) => [n.decision, n.distance])).toEqual([
        ['review', 8],
        ['flagged', 10],
        ['pass', 1],
      ]);
    });

    it('agrees with a brute-force scan on random data (100% recall)', async () => {
      const stored: PerceptualHash[] = [];
      const centres = Array.from({ length: 20 }, randomHash);
      for (let i = 0; i < 200; i++) {
        const centre = centres[i % centres.length] as PerceptualHash;
        const phash = flipBits(centre, i % 24, i);
        stored.push(phash);
        await store.saveJudgedImage(judged({ phash }));
      }
      for (const centre of centres) {
        const query = flipBits(centre, 3, 999);
        const found = await store.findSimilarImages(query, 12, 1000, 'sightengine');
        const mine = found.filter((n) => stored.some((s) => s.hex === n.phash));
        const expected = stored.filter((s) => hammingDistance(s, query) <= 12);
        expect(mine.map((n) => n.phash).sort()).toEqual(expected.map((s) => s.hex).sort());
        for (const neighbour of mine) expect(neighbour.distance).toBe(hammingDistance(hashFromHex(neighbour.phash as string), query));
      }
    });

    it('bulk-imports judgements, skipping stored bytes, and indexes them like single saves', async () => {
      const provider = `import-${name}`;
      const images = [...realisticHashes(1200, 5)].map((phash) => judged({ phash, provider }));
      const first = images[0] as NewJudgedImage;
      await store.saveJudgedImage(first);
      expect(await store.importJudgedImages([...images, { ...first }])).toBe(images.length - 1);
      expect(await store.importJudgedImages(images.slice(0, 10))).toBe(0);
      const found = await store.findImageBySha256((images[700] as NewJudgedImage).sha256);
      expect(found?.phash).toBe((images[700] as NewJudgedImage).phash?.hex);
      const neighbours = await store.findSimilarImages((images[700] as NewJudgedImage).phash as PerceptualHash, 0, 10, provider);
      expect(neighbours.map((n) => n.sha256)).toContain((images[700] as NewJudgedImage).sha256);
    });

    it('finds exactly the brute-force neighbours on clustered pictures with busy chunk values, as the full scan does', async () => {
      // Realistic hashes: clusters of copies, flat regions, chunk values shared by many images.
      const provider = `clustered-${name}`;
      const stored = [...realisticHashes(3000, 11)];
      await store.importJudgedImages(stored.map((phash) => judged({ phash, provider })));
      const random = seededRandom(3);
      for (let query = 0; query < 48; query++) {
        const distance = query % 16;
        const base = stored[Math.floor(random() * stored.length)] as PerceptualHash;
        const probe = flipBits(base, distance, query + 1);
        const expected = stored.filter((hash) => hammingDistance(hash, probe) <= distance).map((hash) => hash.hex);
        const viaIndex = await store.findSimilarImages(probe, distance, 10_000, provider);
        const viaScan = await store.scanSimilarImages(probe, distance, 10_000, provider);
        expect(new Set(viaIndex.map((n) => n.phash))).toEqual(new Set(expected));
        expect(viaScan.map((n) => n.id)).toEqual(viaIndex.map((n) => n.id));
      }
    });

    it('rebuilds the same index rows in SQL (migration 0005) as the code writes', async () => {
      const read = () =>
        database.query(
          'SELECT chunk_index, chunk_value, image_id, CAST(hash_fold AS CHAR) AS fold FROM image_hash_chunks ORDER BY image_id, chunk_index',
        );
      const before = await read();
      expect(before.length).toBeGreaterThan(1000);
      const migration = readFileSync(new URL(`../sql/${store.dialect}/0005_scattered_hash_chunks.sql`, import.meta.url), 'utf8');
      for (const statement of splitStatements(migration)) await database.query(statement);
      expect(await read()).toEqual(before);
    });

    it('leaves low-detail and hashless images out of the near-duplicate index but finds them by sha256', async () => {
      const phash = randomHash();
      const flat = judged({ phash, lowDetail: true });
      const tiny = judged({ phash: null, width: 8, height: 8 });
      await store.saveJudgedImage(flat);
      await store.saveJudgedImage(tiny);
      expect(await store.findSimilarImages(phash, 15, 10, 'sightengine')).toEqual([]);
      expect((await store.findImageBySha256(flat.sha256))?.phash).toBe(phash.hex);
      expect((await store.findImageBySha256(tiny.sha256))?.phash).toBeNull();
    });

    it('stores a video with its frames and finds videos by the images their frames point at', async () => {
      const frames = await Promise.all([0, 1, 2, 3].map(async () => (await store.saveJudgedImage(judged({ format: 'video-frame' }))).id));
      const video = {
        sha256: randomBytes(32).toString('hex'),
        provider: 'sightengine',
        decision: 'flagged' as const,
        reason: 'weapon 0.93 >= 0.85 (flagged)',
        labels: { weapon: { score: 0.93, level: 'flagged' as const, threshold: 0.85 } },
        framesAnalyzed: 4,
        flaggedAtMs: 9000,
        sourceUrl: 'https://example.com/v.mp4',
        durationMs: 12_000,
        width: 640,
        height: 360,
        // The last frame repeats the first (a static shot): both point at the same image.
        frames: [frames[0], frames[1], frames[2], frames[0]].map((imageId, index) => ({ timestampMs: index * 3000, imageId: imageId as number })),
      };
      const saved = await store.saveJudgedVideo(video);
      expect(saved.created).toBe(true);
      expect(await store.findVideoBySha256(video.sha256)).toMatchObject({ id: saved.id, decision: 'flagged', framesAnalyzed: 4, flaggedAtMs: 9000, labels: video.labels });
      expect(await store.saveJudgedVideo({ ...video, decision: 'pass' })).toEqual({ id: saved.id, created: false });

      const matches = await store.findVideosByFrameImages([frames[0] as number, frames[2] as number], 'sightengine');
      expect(matches).toHaveLength(1);
      expect(matches[0]).toMatchObject({ id: saved.id, matchedFrames: 3, framesAnalyzed: 4, sourceUrl: 'https://example.com/v.mp4' });
      expect(await store.findVideosByFrameImages([frames[3] as number], 'sightengine')).toEqual([]);
      expect(await store.findVideosByFrameImages([frames[0] as number], 'nsfwjs')).toEqual([]);
      expect(await store.findVideosByFrameImages([], 'sightengine')).toEqual([]);

      const replaced = await store.saveJudgedVideo({ ...video, provider: 'nsfwjs', decision: 'pass', flaggedAtMs: null, frames: video.frames.slice(0, 2) });
      expect(replaced).toEqual({ id: saved.id, created: false });
      expect(await store.findVideoBySha256(video.sha256)).toMatchObject({ provider: 'nsfwjs', decision: 'pass', flaggedAtMs: null });
      expect((await store.findVideosByFrameImages([frames[0] as number, frames[2] as number], 'nsfwjs'))[0]?.matchedFrames).toBe(1);
    });

    it('saves different videos at the same time without a deadlock', async () => {
      const frame = (await store.saveJudgedImage(judged({ format: 'video-frame' }))).id;
      const video = (i: number) => ({
        sha256: randomBytes(32).toString('hex'),
        provider: 'sightengine',
        decision: 'pass' as const,
        reason: 'fine',
        labels: {},
        framesAnalyzed: 1,
        flaggedAtMs: null,
        sourceUrl: `https://example.com/${i}.mp4`,
        durationMs: 3000,
        width: 320,
        height: 240,
        frames: [{ timestampMs: 0, imageId: frame }],
      });
      const saved = await Promise.all([1, 2, 3, 4, 5, 6].map((i) => store.saveJudgedVideo(video(i))));
      expect(saved.every((result) => result.created)).toBe(true);
      const same = video(7);
      const twice = await Promise.all([store.saveJudgedVideo(same), store.saveJudgedVideo(same)]);
      expect(twice.map((result) => result.created).sort()).toEqual([false, true]);
      expect(twice[0]?.id).toBe(twice[1]?.id);
    });

    it('writes audit rows arriving together as one group, and a bad row fails only its own request', async () => {
      const taken = randomUUID();
      await store.appendLog({ requestId: taken, contentType: 'text', httpStatus: 200, latencyMs: 1 });
      const ids = Array.from({ length: 40 }, () => randomUUID());
      // Submitted in one turn: the adapter writes them together; the duplicate request id must not
      // take the 40 good rows down with it.
      const results = await Promise.allSettled([
        ...ids.map((requestId) => store.appendLog({ requestId, contentType: 'text', httpStatus: 200, latencyMs: 2 })),
        store.appendLog({ requestId: taken, contentType: 'text', httpStatus: 200, latencyMs: 3 }),
      ]);
      expect(results.slice(0, 40).every((result) => result.status === 'fulfilled')).toBe(true);
      expect(results[40]?.status).toBe('rejected');
      for (const requestId of ids) expect((await store.findLogByRequestId(requestId))?.latencyMs).toBe(2);
      expect((await store.findLogByRequestId(taken))?.latencyMs).toBe(1);
    });

    it('appends audit rows that read back column for column', async () => {
      const requestId = randomUUID();
      await store.appendLog({
        requestId,
        batchId: null,
        userUuid: 'user-1',
        client: null,
        contentType: 'image',
        contentIdentifier: 'https://example.com/a.jpg',
        sha256: 'a'.repeat(64),
        phash: 'b'.repeat(64),
        decision: 'flagged',
        reason: 'weapon 0.93 >= 0.85 (flagged)',
        source: 'cache_near',
        provider: 'sightengine',
        matchedItemId: 42,
        matchedDistance: 3,
        httpStatus: 200,
        latencyMs: 12.6,
        error: null,
        rawResponse: { status: 'success', nested: { ok: true } },
      });
      const row = await store.findLogByRequestId(requestId);
      expect(row).toMatchObject({
        requestId,
        userUuid: 'user-1',
        contentType: 'image',
        decision: 'flagged',
        source: 'cache_near',
        matchedItemId: 42,
        matchedDistance: 3,
        httpStatus: 200,
        latencyMs: 13,
        rawResponse: { status: 'success', nested: { ok: true } },
      });
      expect(row?.createdAt).toMatch(/^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}\.\d{3}/);
      await expect(store.appendLog({ requestId, contentType: 'image', httpStatus: 200, latencyMs: 1 })).rejects.toThrow();
    });

    it('answers a ping and is idempotent to migrate again', async () => {
      await store.ping();
      await store.migrate();
    });
  });
});
