import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteDatabase } from '../test/helpers/databases.js';
import { startImageService } from '../test/helpers/image-service.js';
import { patternImage } from '../test/helpers/images.js';
import { makeVideo, type Segment } from '../test/helpers/videos.js';
import sharp from 'sharp';
import { lowScores } from '../test/fakes/fake-sightengine.js';

/**
 * Video analysis speed with a provider that answers at once (a loopback fake SightEngine), so the
 * numbers are the service's own cost: download, ffmpeg decoding, hashing, store lookups.
 *
 *   npx tsx bench/video.ts
 *
 * A 60 s 1280x720 video of 20 distinct 3-second scenes (so every sampled frame is new), the same
 * video with a flagged segment at 10 % and at 90 % of its length (time to decision), and 60 s of
 * full-frame motion (decoding cost).
 */

const folder = mkdtempSync(join(tmpdir(), 'video-bench-'));
const scenes = await Promise.all(
  Array.from({ length: 20 }, async (_, i) => {
    const path = join(folder, `scene-${i}.png`);
    writeFileSync(path, await patternImage(9000 + i, { width: 1280, height: 720, format: 'png' }));
    return path;
  }),
);
const scene = (i: number): Segment => ({ source: 'picture', path: scenes[i] as string, seconds: 3 });
const red: Segment = { source: 'colour', colour: 'red', seconds: 3 };
const videos = {
  clean: await makeVideo(join(folder, 'clean.mp4'), scenes.map((_, i) => scene(i)), { size: '1280x720', rate: 30 }),
  flaggedAt10: await makeVideo(join(folder, 'flagged-10.mp4'), scenes.map((_, i) => (i === 2 ? red : scene(i))), { size: '1280x720', rate: 30 }),
  flaggedAt90: await makeVideo(join(folder, 'flagged-90.mp4'), scenes.map((_, i) => (i === 18 ? red : scene(i))), { size: '1280x720', rate: 30 }),
  // Motion in every frame: what decoding costs when nothing stands still (its frames hash alike, so few calls).
  motion: await makeVideo(join(folder, 'motion.mp4'), [{ source: 'moving', seconds: 60 }], { size: '1280x720', rate: 30 }),
};

async function scoreFrame(media: Buffer) {
  const { channels } = await sharp(media).stats();
  const [r, g, b] = channels.map((channel) => channel.mean) as [number, number, number];
  return r > 180 && g < 80 && b < 80 ? { ...lowScores(), weapon: { classes: { firearm: 0.97, knife: 0.01 } } } : lowScores();
}

console.log(`Machine: ${cpus()[0]?.model ?? 'unknown'}, ${cpus().length} cores, Node ${process.version}`);
console.log('60 s 1280x720 H.264 at 30 fps, 20 distinct scenes; sampling every 3 s; provider answering at once; fresh SQLite store per run\n');
console.log('video                      decision  frames  provider calls  seconds  frames/s  flagged at');

for (const [name, file] of Object.entries(videos)) {
  const database = await createSqliteDatabase();
  const service = await startImageService(database, { scorer: scoreFrame });
  const url = service.content.serve(`/${name}.mp4`, readFileSync(file), 'video/mp4');
  const started = performance.now();
  const { body } = await service.post('/analyse/video', { url, user_uuid: 'bench' });
  const seconds = (performance.now() - started) / 1000;
  console.log(
    [
      name.padEnd(26),
      String(body.decision).padEnd(9),
      String(body.frames_analyzed).padStart(6),
      String(service.fake.callCount).padStart(15),
      seconds.toFixed(2).padStart(8),
      (body.frames_analyzed / seconds).toFixed(1).padStart(9),
      String(body.flagged_at_timestamp ?? '-').padStart(11),
    ].join(' '),
  );
  await service.close();
  await database.drop();
}
rmSync(folder, { recursive: true, force: true });
