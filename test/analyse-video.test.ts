import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { buildDeps } from '../src/deps.js';
import { failureBody, lowScores } from './fakes/fake-sightengine.js';
import { startContentServer } from './helpers/content-server.js';
import { databaseBackends, type TestDatabase } from './helpers/databases.js';
import { startImageService, type ImageService } from './helpers/image-service.js';
import { patternImage } from './helpers/images.js';
import { makeAudioOnly, makeVideo, reencode, type Segment } from './helpers/videos.js';

/** POST /analyse/video end to end: real ffmpeg, generated videos, a fake SightEngine. */

/** The fake flags frames that are mostly red: the "bad segment" of the test videos. */
async function scoreFrame(media: Buffer) {
  const { channels } = await sharp(media).stats();
  const [red, green, blue] = channels.map((channel) => channel.mean) as [number, number, number];
  return red > 180 && green < 80 && blue < 80 ? { ...lowScores(), weapon: { classes: { firearm: 0.97, knife: 0.01 } } } : lowScores();
}

/** A detailed picture that is mostly red. */
async function redPattern(): Promise<Buffer> {
  const width = 640;
  const height = 360;
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const offset = (y * width + x) * 3;
      const stripe = Math.floor(x / 40 + y / 30) % 3;
      pixels[offset] = 200 + stripe * 25;
      pixels[offset + 1] = stripe * 20;
      pixels[offset + 2] = ((x * y) % 50) + stripe * 5;
    }
  }
  return sharp(pixels, { raw: { width, height, channels: 3 } }).png().toBuffer();
}

function ffmpegProcesses(): number {
  let count = 0;
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (basename(argv[0] ?? '') === 'ffmpeg' && argv.some((arg) => arg.includes('moderation-video-'))) count++;
    } catch {
      // gone meanwhile
    }
  }
  return count;
}

describe.each(databaseBackends)('POST /analyse/video on $name', ({ name, create, available }) => {
  // Skipped only when no MySQL server is reachable and REQUIRE_MYSQL is not set (see helpers/databases.ts).
  describe.skipIf(!available)(name, () => {
    let database: TestDatabase;
    let service: ImageService;
    let folder: string;
    let videoTemp: string;
    let requests = 0;
    const urls: Record<string, string> = {};

    const serveFile = (path: string) => service.content.serve(`/${basename(path)}`, readFileSync(path), 'video/mp4');
    const analyse = async (url: string) => {
      requests++;
      const before = service.fake.callCount;
      const response = await service.post('/analyse/video', { url, user_uuid: 'uploader' });
      return { ...response, calls: service.fake.callCount - before };
    };

    beforeAll(async () => {
      database = await create();
      folder = mkdtempSync(join(tmpdir(), 'video-test-'));
      videoTemp = mkdtempSync(join(tmpdir(), 'video-temp-'));
      service = await startImageService(database, {
        scorer: scoreFrame,
        env: { VIDEO_SAMPLE_INTERVAL_S: '3', VIDEO_FRAME_CONCURRENCY: '1', VIDEO_MAX_DURATION_S: '40', VIDEO_TEMP_DIR: videoTemp },
      });
      // Ten distinct scenes of 3 s: every sampled frame shows something new.
      const scenes = await Promise.all(
        Array.from({ length: 14 }, async (_, i) => {
          const path = join(folder, `scene-${i}.png`);
          writeFileSync(path, await patternImage(700 + i, { width: 640, height: 360, format: 'png' }));
          return path;
        }),
      );
      const picture = (i: number, seconds = 3) => ({ source: 'picture' as const, path: scenes[i] as string, seconds });
      const original = await makeVideo(join(folder, 'original.mp4'), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => picture(i)), { size: '640x360' });
      urls.original = serveFile(original);
      urls.reencoded = serveFile(await reencode(original, join(folder, 'reencoded.mp4'), { size: '426x240', bitrate: '300k' }));
      urls.trimmed = serveFile(await reencode(original, join(folder, 'trimmed.mp4'), { size: '640x360', bitrate: '800k', trimStartSeconds: 3 }));
      urls.unrelated = serveFile(await makeVideo(join(folder, 'unrelated.mp4'), [{ source: 'mandelbrot', seconds: 12 }]));
      urls.static = serveFile(await makeVideo(join(folder, 'static.mp4'), [{ source: 'bars', seconds: 12 }]));
      urls.bad = serveFile(
        await makeVideo(join(folder, 'bad.mp4'), [picture(10), picture(11), { source: 'colour', colour: 'red', seconds: 3 }, picture(12, 30)]),
      );
      urls.long = serveFile(await makeVideo(join(folder, 'long.mp4'), [{ source: 'bars', seconds: 45 }], { size: '160x120' }));
      urls.audio = serveFile(await makeAudioOnly(join(folder, 'sound.m4a')));
      // A detailed, mostly red picture: the fake flags it, and it has a meaningful hash.
      const redPicture = join(folder, 'red-picture.png');
      writeFileSync(redPicture, await redPattern());
      urls.redPicture = service.content.serve('/red-picture.png', readFileSync(redPicture), 'image/png');
      urls.knownBad = serveFile(await makeVideo(join(folder, 'known-bad.mp4'), [picture(13), { source: 'picture', path: redPicture, seconds: 3 }, picture(6)], { size: '640x360' }));
      const valid = readFileSync(original);
      urls.corrupt = service.content.serve('/corrupt.mp4', Buffer.concat([valid.subarray(0, 48), Buffer.alloc(20_000, 0x5a)]), 'video/mp4');
    }, 120_000);

    afterAll(async () => {
      await service?.close();
      await database?.drop();
      rmSync(folder, { recursive: true, force: true });
      rmSync(videoTemp, { recursive: true, force: true });
    });

    it('judges every sampled frame of a clean video, once each', async () => {
      const { status, body, calls } = await analyse(urls.original as string);
      expect(status).toBe(200);
      expect(body).toMatchObject({ decision: 'pass', is_duplicate: false, frames_analyzed: 10, source: 'provider', provider: 'sightengine' });
      expect(body.flagged_at_timestamp).toBeUndefined();
      expect(calls).toBe(10);
      expect(await service.deps.store.findLogByRequestId(body.request_id)).toMatchObject({ contentType: 'video', decision: 'pass', httpStatus: 200, sha256: body.sha256 });
    });

    it('answers the same file again from the store', async () => {
      const { body, calls } = await analyse(urls.original as string);
      expect(body).toMatchObject({ is_duplicate: true, source: 'cache_exact', frames_analyzed: 10 });
      expect(calls).toBe(0);
    });

    it('knows a re-encoded copy (other size and bitrate) without a provider call', async () => {
      const { body, calls } = await analyse(urls.reencoded as string);
      expect(body).toMatchObject({ is_duplicate: true, decision: 'pass', source: 'cache_near' });
      expect(calls).toBe(0);
      expect(body.similar_items[0]).toMatchObject({ url: urls.original });
      expect(body.similar_items[0].matched_frames_ratio).toBeGreaterThanOrEqual(0.8);
    });

    it('knows a trimmed copy as a duplicate', async () => {
      const { body } = await analyse(urls.trimmed as string);
      expect(body).toMatchObject({ is_duplicate: true, decision: 'pass' });
      expect(body.similar_items[0]).toMatchObject({ url: urls.original });
    });

    it('does not take an unrelated video for a duplicate', async () => {
      const { body, calls } = await analyse(urls.unrelated as string);
      expect(body).toMatchObject({ is_duplicate: false, source: 'provider' });
      expect(body.similar_items).toBeUndefined();
      expect(calls).toBeGreaterThan(0);
    });

    it('pays once for a static video', async () => {
      const { body, calls } = await analyse(urls.static as string);
      expect(body).toMatchObject({ decision: 'pass', frames_analyzed: 4 });
      expect(calls).toBe(1);
    });

    it('stops at the first flagged frame: no further provider calls, no decoding, no ffmpeg left', async () => {
      const { body, calls } = await analyse(urls.bad as string);
      expect(body).toMatchObject({ decision: 'flagged', flagged_at_timestamp: 6, frames_analyzed: 3, source: 'provider' });
      expect(body.review_details.weapon).toMatchObject({ level: 'flagged' });
      expect(body.reason).toMatch(/^Frame at 6 s: weapon/);
      // Frames 0, 3 and 6 s of 13: one call each, nothing after the flagged frame.
      expect(calls).toBe(3);
      expect(ffmpegProcesses()).toBe(0);
    });

    it('flags a frame that looks like a known flagged image without asking the provider about it', async () => {
      const image = await service.post('/analyse/image', { url: urls.redPicture, user_uuid: 'uploader' });
      requests++;
      expect(image.body.decision).toBe('flagged');
      const { body, calls } = await analyse(urls.knownBad as string);
      expect(body).toMatchObject({ decision: 'flagged', flagged_at_timestamp: 3, frames_analyzed: 2 });
      // One call for the new scene at 0 s; the red frame at 3 s is answered by the stored image.
      expect(calls).toBe(1);
    });

    it.each([
      ['a corrupt file', 'corrupt', 'undecodable_media'],
      ['an audio-only file', 'audio', 'unsupported_media_type'],
      ['a video longer than VIDEO_MAX_DURATION_S', 'long', 'media_too_large'],
    ])('refuses %s with a clear 400 and a log row', async (_label, key, code) => {
      const { status, body, calls } = await analyse(urls[key] as string);
      expect(status).toBe(400);
      expect(body).toMatchObject({ code });
      expect(body.detail).not.toContain(videoTemp);
      expect(calls).toBe(0);
      expect(await service.deps.store.findLogByRequestId(body.request_id)).toMatchObject({ httpStatus: 400, contentType: 'video' });
    });

    it('leaves no temporary file behind and one log row per request', async () => {
      expect(readdirSync(videoTemp)).toEqual([]);
      expect(await database.countRows('moderation_log')).toBe(requests);
    });
  });
});

describe('POST /analyse/video with the offline classifier', () => {
  it('judges the sampled pixels locally, with no provider', async () => {
    const database = await databaseBackends[0]!.create();
    const folder = mkdtempSync(join(tmpdir(), 'video-local-'));
    const content = await startContentServer();
    const deps = await buildDeps(loadConfig({ LOG_LEVEL: 'error', DATABASE_URL: database.url, FETCH_ALLOW_PRIVATE: '127.0.0.1/32' }));
    try {
      const video = await makeVideo(join(folder, 'clip.mp4'), [{ source: 'bars', seconds: 4 }, { source: 'mandelbrot', seconds: 4 }]);
      const response = await createApp(deps).request('/analyse/video', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ url: content.serve('/clip.mp4', readFileSync(video)), user_uuid: 'u' }),
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ decision: 'pass', provider: 'nsfwjs', source: 'local', frames_analyzed: 3 });
    } finally {
      await deps.close();
      await content.close();
      await database.drop();
      rmSync(folder, { recursive: true, force: true });
    }
  });
});

describe('POST /analyse/video when frames fail or requests overlap', () => {
  let database: TestDatabase;
  let service: ImageService;
  let folder: string;
  const videos: Record<string, string> = {};

  beforeAll(async () => {
    database = await databaseBackends[0]!.create();
    folder = mkdtempSync(join(tmpdir(), 'video-faults-'));
    service = await startImageService(database, { scorer: scoreFrame, env: { VIDEO_FRAME_CONCURRENCY: '2', PROVIDER_MAX_RETRIES: '0' } });
    const scene = async (seed: number) => {
      const path = join(folder, `scene-${seed}.png`);
      writeFileSync(path, await patternImage(seed, { width: 320, height: 240, format: 'png' }));
      return { source: 'picture' as const, path, seconds: 3 };
    };
    const serve = async (name: string, segments: Segment[]) => {
      videos[name] = service.content.serve(`/${name}.mp4`, readFileSync(await makeVideo(join(folder, `${name}.mp4`), segments)), 'video/mp4');
    };
    await serve('flagged-second', [await scene(801), { source: 'colour', colour: 'red', seconds: 3 }, await scene(802)]);
    await serve('clean', [await scene(803), await scene(804), await scene(805)]);
    await serve('shared', [await scene(806), await scene(807), await scene(808), await scene(809)]);
  }, 120_000);

  afterAll(async () => {
    await service?.close();
    await database?.drop();
    rmSync(folder, { recursive: true, force: true });
  });

  const analyse = (url: string) => service.post('/analyse/video', { url, user_uuid: 'u' });

  it('answers flagged when one frame is flagged, even if another frame could not be judged', async () => {
    // The first frame's call fails late (bad credentials, not retried); the red frame, judged alongside, is flagged first.
    service.fake.enqueue({ kind: 'json', status: 401, body: failureBody('credentials_error', 1, 'Incorrect API user or secret'), afterMs: 400 });
    const { body } = await analyse(videos['flagged-second'] as string);
    expect(body).toMatchObject({ decision: 'flagged', flagged_at_timestamp: 3, frames_analyzed: 1 });
    // Incomplete, so not stored: the same file is judged again next time.
    const again = await analyse(videos['flagged-second'] as string);
    expect(again.body.source).not.toBe('cache_exact');
  });

  it('holds a video for review when a frame cannot be judged, counting only judged frames', async () => {
    service.fake.enqueue({ kind: 'json', status: 401, body: failureBody('credentials_error', 1, 'Incorrect API user or secret') });
    const { status, body } = await analyse(videos.clean as string);
    expect(status).toBe(200);
    expect(body).toMatchObject({ decision: 'review', source: 'error', is_duplicate: false });
    expect(body.frames_analyzed).toBeLessThan(3);
    expect(await service.deps.store.findLogByRequestId(body.request_id)).toMatchObject({ decision: 'review', source: 'error', error: expect.stringContaining('credentials_error') });
  });

  it('judges a video once when two requests for it arrive together', async () => {
    const before = service.fake.callCount;
    service.fake.setLatency(() => 100);
    const [first, second] = await Promise.all([analyse(videos.shared as string), analyse(videos.shared as string)]);
    service.fake.setLatency(() => 0);
    expect(service.fake.callCount - before).toBe(4);
    expect([first.body.is_duplicate, second.body.is_duplicate].sort()).toEqual([false, true]);
    expect(first.body.decision).toBe('pass');
    expect(second.body.decision).toBe('pass');
  });
});
