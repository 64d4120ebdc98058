import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashFromHex } from '../src/dedupe/perceptual-hash.js';
import { openStore } from '../src/store/open-store.js';
import { startFakeSightengine, type FakeSightengine } from './fakes/fake-sightengine.js';
import { startContentServer, type ContentServer } from './helpers/content-server.js';
import { databaseBackends, type TestDatabase } from './helpers/databases.js';
import { flatImage, patternImage } from './helpers/images.js';
import { exitOf, startServiceProcess, type ServiceProcess } from './helpers/service-process.js';

/**
 * kill -9 in the middle of traffic, then a restart on the same database and spool: the store must
 * be consistent (every indexed image has its 16 index rows, no index row without its image), the
 * near-duplicate lookup must agree with a full scan, migrations must not run again, and every
 * answered request must have exactly one moderation_log row.
 */

type Job = { path: string; body: unknown };

const IMAGES = 24;
const FLAT_IMAGES = 3;
const KILL_AFTER_ANSWERS = 20;
const WORKERS = 6;

async function eventually(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 100));
}

function shuffled<T>(items: T[], seed: number): T[] {
  const result = [...items];
  let state = seed;
  for (let i = result.length - 1; i > 0; i--) {
    state = (state * 1103515245 + 12345) % 2147483648;
    const j = state % (i + 1);
    [result[i], result[j]] = [result[j] as T, result[i] as T];
  }
  return result;
}

describe.each(databaseBackends)('kill -9 during traffic on $name', ({ name, create, available }) => {
  describe.skipIf(!available)(name, () => {
    let database: TestDatabase;
    let content: ContentServer;
    let fake: FakeSightengine;
    let folder: string;
    let service: ServiceProcess | undefined;
    const imageUrls: string[] = [];
    let env: Record<string, string>;
    /** request_id of every answered request (batch items included). */
    const answered = new Set<string>();

    beforeAll(async () => {
      database = await create();
      content = await startContentServer();
      fake = await startFakeSightengine();
      // Provider calls that take a while keep several requests between their reads and their writes.
      fake.setLatency(() => 5 + Math.random() * 40);
      for (let seed = 1; seed <= IMAGES; seed++) {
        imageUrls.push(content.serve(`/picture-${seed}.jpg`, await patternImage(seed * 7, { width: 320, height: 240 }), 'image/jpeg'));
      }
      for (let shade = 0; shade < FLAT_IMAGES; shade++) {
        imageUrls.push(content.serve(`/flat-${shade}.png`, await flatImage({ r: 40 * shade, g: 90, b: 200 - 30 * shade }), 'image/png'));
      }
      folder = mkdtempSync(join(tmpdir(), 'crash-test-'));
      env = {
        LOG_FORMAT: 'json',
        DATABASE_URL: database.url,
        AUDIT_SPOOL_PATH: join(folder, 'audit-spool.jsonl'),
        IMAGE_PROVIDER: 'sightengine',
        SIGHTENGINE_API_USER: fake.apiUser,
        SIGHTENGINE_API_SECRET: fake.apiSecret,
        SIGHTENGINE_BASE_URL: fake.baseUrl,
        TEXT_PROVIDER: 'local',
        FETCH_ALLOW_PRIVATE: '127.0.0.1/32',
        RATE_LIMIT_PER_SECOND: '0',
      };
    });

    afterAll(async () => {
      if (service?.child.exitCode === null) service.child.kill('SIGKILL');
      await fake?.close();
      await content?.close();
      await database?.drop();
      if (folder) rmSync(folder, { recursive: true, force: true });
    });

    const post = async (origin: string, job: Job) => {
      const response = await fetch(`${origin}${job.path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(job.body) });
      return { status: response.status, body: (await response.json()) as Record<string, any> };
    };

    const rows = (sql: string, params: unknown[] = []) => database.query(sql, params);

    async function expectConsistentStore(): Promise<void> {
      // saveJudgedImage writes an image and its index rows in one transaction: all 16 or none.
      expect(
        await rows(
          'SELECT i.id, COUNT(c.image_id) AS chunks FROM images i LEFT JOIN image_hash_chunks c ON c.image_id = i.id WHERE i.phash0 IS NOT NULL AND i.low_detail = 0 GROUP BY i.id HAVING COUNT(c.image_id) <> 16',
        ),
      ).toEqual([]);
      expect(await rows('SELECT i.id FROM images i JOIN image_hash_chunks c ON c.image_id = i.id WHERE i.phash0 IS NULL OR i.low_detail = 1')).toEqual([]);
      expect(await rows('SELECT c.image_id FROM image_hash_chunks c LEFT JOIN images i ON i.id = c.image_id WHERE i.id IS NULL')).toEqual([]);
      expect(await rows('SELECT request_id FROM moderation_log GROUP BY request_id HAVING COUNT(*) > 1')).toEqual([]);
      if (name === 'sqlite') {
        expect(await rows('PRAGMA integrity_check')).toEqual([{ integrity_check: 'ok' }]);
        expect(await rows('PRAGMA foreign_key_check')).toEqual([]);
      } else {
        for (const row of await rows('CHECK TABLE images, image_hash_chunks, moderation_log, texts')) expect(row.Msg_text, String(row.Table)).toBe('OK');
      }

      // The near-duplicate index finds every stored image, exactly as the full scan does.
      const store = openStore(database.url, { poolSize: 2 });
      try {
        const indexed = await rows('SELECT sha256 FROM images WHERE phash0 IS NOT NULL AND low_detail = 0');
        expect(indexed.length).toBeGreaterThan(0);
        for (const { sha256 } of indexed) {
          const image = await store.findImageBySha256(String(sha256));
          const hash = hashFromHex(image?.phash as string);
          const viaIndex = await store.findSimilarImages(hash, 12, 50, 'sightengine');
          expect(viaIndex[0]).toMatchObject({ id: image?.id, distance: 0 });
          expect(viaIndex).toEqual(await store.scanSimilarImages(hash, 12, 50, 'sightengine'));
        }
      } finally {
        await store.close();
      }
    }

    async function expectEveryAnswerLoggedOnce(): Promise<void> {
      const logged = new Set((await rows('SELECT request_id FROM moderation_log')).map((row) => String(row.request_id)));
      expect([...answered].filter((id) => !logged.has(id))).toEqual([]);
    }

    it('restarts on a consistent store after kill -9 in the middle of writes', async () => {
      service = await startServiceProcess(env);
      const migrations = await rows('SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version');
      expect(migrations.length).toBeGreaterThanOrEqual(5);

      const jobs: Job[] = shuffled(
        [
          ...imageUrls.flatMap((url, index) => [url, url].map((same) => ({ path: '/analyse/image', body: { url: same, user_uuid: `user-${index % 5}` } }))),
          ...Array.from({ length: 30 }, (_, index) => ({ path: '/analyse/text', body: { text: `message number ${index % 20} about the garden`, user_uuid: 'writer' } })),
          ...[0, 1].map((batch) => ({
            path: '/analyse/images/batch',
            body: { images: imageUrls.slice(batch * 5, batch * 5 + 5).map((url) => ({ url, user_uuid: 'batch-user' })), max_concurrent: 3 },
          })),
        ],
        name.length,
      );
      const running = service;
      let killed = false;
      let cutOff = 0;
      const worker = async () => {
        while (!killed && jobs.length > 0) {
          const job = jobs.shift() as Job;
          try {
            const { status, body } = await post(running.origin, job);
            expect(status, JSON.stringify(body)).toBe(200);
            if (Array.isArray(body.results)) for (const item of body.results) answered.add(item.request_id);
            else answered.add(body.request_id);
          } catch (error) {
            // Cut off by the kill: no answer, so no promise about its row.
            if (!killed) throw error;
            cutOff++;
          }
          if (!killed && answered.size >= KILL_AFTER_ANSWERS) {
            killed = true;
            running.child.kill('SIGKILL');
          }
        }
      };
      await Promise.all(Array.from({ length: WORKERS }, worker));
      expect(killed).toBe(true);
      // The other workers were mid-request: the process died with work under way.
      expect(cutOff).toBeGreaterThan(0);
      await exitOf(running.child);
      expect(running.child.signalCode).toBe('SIGKILL');

      service = await startServiceProcess(env);
      const restarted = service;
      await eventually(async () => (await fetch(`${restarted.origin}/readyz`)).status === 200);
      // Migrations found nothing to do: the records are those of the first start.
      expect(await rows('SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version')).toEqual(migrations);
      await expectConsistentStore();
      await expectEveryAnswerLoggedOnce();

      // Requests succeed, and what was judged before the crash is recognised.
      for (const url of imageUrls) {
        const { status, body } = await post(restarted.origin, { path: '/analyse/image', body: { url, user_uuid: 'after-crash' } });
        expect(status, JSON.stringify(body)).toBe(200);
        answered.add(body.request_id);
      }
      const again = await post(restarted.origin, { path: '/analyse/image', body: { url: imageUrls[0], user_uuid: 'after-crash' } });
      expect(again.body).toMatchObject({ is_duplicate: true, source: 'cache_exact' });
      answered.add(again.body.request_id);
      const text = await post(restarted.origin, { path: '/analyse/text', body: { text: 'message number 3 about the garden', user_uuid: 'after-crash' } });
      expect(text.status).toBe(200);
      answered.add(text.body.request_id);
      await expectConsistentStore();
      await expectEveryAnswerLoggedOnce();
    });

    it.skipIf(name !== 'mysql')('applies migrations again whose records a crash lost, since MySQL commits each DDL statement at once', async () => {
      const running = service as ServiceProcess;
      running.child.kill('SIGKILL');
      await exitOf(running.child);
      const chunkRows = await database.countRows('image_hash_chunks');
      const recorded = await rows('SELECT version, checksum FROM schema_migrations ORDER BY version');
      // As if the process died after each file's statements but before recording any of them.
      await rows('DELETE FROM schema_migrations');

      service = await startServiceProcess(env);
      const restarted = service;
      await eventually(async () => (await fetch(`${restarted.origin}/readyz`)).status === 200);
      expect(await rows('SELECT version, checksum FROM schema_migrations ORDER BY version')).toEqual(recorded);
      expect(await database.countRows('image_hash_chunks')).toBe(chunkRows);
      await expectConsistentStore();
      const { status, body } = await post(restarted.origin, { path: '/analyse/image', body: { url: imageUrls[1], user_uuid: 'after-migrations' } });
      expect(status).toBe(200);
      answered.add(body.request_id);
      await expectEveryAnswerLoggedOnce();
    });
  });
});
