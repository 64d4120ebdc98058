import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { locateFfmpeg } from '../../src/media/ffmpeg.js';
import { startContentServer, type ContentServer } from '../helpers/content-server.js';
import { patternImage, resizedRecompressed } from '../helpers/images.js';
import { seededRandom } from '../helpers/realistic-hashes.js';
import { makeVideo } from '../helpers/videos.js';

/**
 * What the soak's clients send: a loopback web server with pictures, near-copies, short videos and
 * broken files, refilled with new content every round, and a seeded generator of request bodies
 * over the four /analyse endpoints.
 */

export type Endpoint = 'image' | 'batch' | 'video' | 'text';
export const endpoints: Endpoint[] = ['image', 'batch', 'video', 'text'];
export const endpointPaths: Record<Endpoint, string> = {
  image: '/analyse/image',
  batch: '/analyse/images/batch',
  video: '/analyse/video',
  text: '/analyse/text',
};

export type PlannedRequest = { endpoint: Endpoint; body: unknown; kind: string };

/** Share of each endpoint in the traffic. */
const endpointMix: [Endpoint, number][] = [
  ['image', 0.45],
  ['batch', 0.15],
  ['video', 0.1],
  ['text', 0.3],
];

const imageSize = { width: 320, height: 240 };
const videoSize = '160x120';

export type SoakContent = {
  content: ContentServer;
  /** Serves the new pictures and videos of `round` (called before the round starts). */
  prepareRound(round: number): Promise<void>;
  /** The next request of the traffic, drawn from the seeded generator. */
  next(): PlannedRequest;
  close(): Promise<void>;
};

const run = promisify(execFile);

const repeatedTexts = [
  'Great photo, where was this taken?',
  'Selling my old bike, message me if interested',
  'you are an idiot and everyone hates you',
  'Check out my profile for free followers!!!',
  'Happy birthday! Hope you have a wonderful day',
  'Does anyone know when the shop opens tomorrow?',
  'This is the worst service I have ever used',
  'lol same',
  'Can you send me your phone number?',
  'Thanks for sharing, very helpful',
];

export async function startSoakContent(options: { seed: number; newImagesPerRound: number; newVideosPerRound: number }): Promise<SoakContent> {
  const random = seededRandom(options.seed ^ 0x5eed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const content = await startContentServer();
  const folder = mkdtempSync(join(tmpdir(), 'soak-content-'));
  const { ffmpeg } = locateFfmpeg();

  // Pictures served so far: each has a near-copy (scaled down and recompressed) at another URL.
  const pictures: { url: string; nearUrl: string }[] = [];
  const videos: string[] = [];
  let requestNumber = 0;

  async function addPicture(seed: number): Promise<void> {
    const image = await patternImage(seed, imageSize);
    const url = content.serve(`/pictures/${seed}.jpg`, image, 'image/jpeg');
    const nearUrl = content.serve(`/pictures/${seed}-small.jpg`, await resizedRecompressed(image), 'image/jpeg');
    pictures.push({ url, nearUrl });
  }

  // Broken on purpose: each must get its documented 4xx, never a 5xx.
  const badImageUrls = [
    `${content.origin}/missing.jpg`, // 404: fetch_failed
    content.serve('/corrupt.jpg', Buffer.concat([(await patternImage(1, imageSize)).subarray(0, 600), Buffer.alloc(4000, 0x11)]), 'image/jpeg'),
    content.serve('/notes.txt', Buffer.from('not a picture\n'.repeat(50)), 'text/plain'),
    content.handle('/reset.jpg', (request) => request.socket.destroy()),
    'http://10.255.255.1/private.jpg', // a private address: url_not_allowed, nothing is fetched
  ];

  const baseVideo = await makeVideo(join(folder, 'base-moving.mp4'), [{ source: 'moving', seconds: 3 }], { size: videoSize });
  const baseBars = await makeVideo(join(folder, 'base-bars.mp4'), [{ source: 'bars', seconds: 2 }, { source: 'mandelbrot', seconds: 2 }], { size: videoSize });
  videos.push(content.serve('/videos/base-moving.mp4', readFileSync(baseVideo), 'video/mp4'));
  videos.push(content.serve('/videos/base-bars.mp4', readFileSync(baseBars), 'video/mp4'));
  const validVideo = readFileSync(baseVideo);
  const badVideoUrls = [
    content.serve('/videos/corrupt.mp4', Buffer.concat([validVideo.subarray(0, 48), Buffer.alloc(20_000, 0x5a)]), 'video/mp4'),
    `${content.origin}/videos/missing.mp4`,
  ];

  /**
   * New videos for a round: a still of a new picture (new frames, judged by the provider) and a
   * remux of a base video with new metadata (new bytes, so ffmpeg runs, but known frames).
   */
  async function addVideos(round: number): Promise<void> {
    for (let i = 0; i < options.newVideosPerRound; i++) {
      const name = `round-${round}-${i}`;
      const path = join(folder, `${name}.mp4`);
      if (i % 2 === 0) {
        const still = join(folder, `${name}.png`);
        writeFileSync(still, await patternImage(100_000 + round * 100 + i, { ...imageSize, format: 'png' }));
        await makeVideo(path, [{ source: 'picture', path: still, seconds: 2 }, { source: 'moving', seconds: 2 }], { size: videoSize });
      } else {
        await run(ffmpeg, ['-y', '-loglevel', 'error', '-i', i % 4 === 1 ? baseVideo : baseBars, '-c', 'copy', '-metadata', `comment=${name}`, path]);
      }
      videos.push(content.serve(`/videos/${name}.mp4`, readFileSync(path), 'video/mp4'));
      rmSync(path, { force: true });
    }
  }

  /** An image URL: mostly pictures seen before (same URL, same bytes elsewhere, or a near-copy), some new, some broken. */
  function imageUrl(): { url: string; kind: string } {
    const roll = random();
    const recent = pictures.slice(-options.newImagesPerRound * 2);
    if (roll < 0.1) return { url: pick(badImageUrls), kind: 'bad url' };
    if (roll < 0.4) return { url: pick(pictures).url, kind: 'repeat' };
    if (roll < 0.55) return { url: `${pick(pictures).url}?copy=${requestNumber}`, kind: 'same bytes, new url' };
    if (roll < 0.75) return { url: pick(pictures).nearUrl, kind: 'near copy' };
    return { url: pick(recent).url, kind: 'new picture' };
  }

  function textBody(): { body: unknown; kind: string } {
    const user_uuid = `soak-user-${Math.floor(random() * 40)}`;
    const repeat = random() < 0.5;
    const text = repeat ? pick(repeatedTexts) : `${pick(repeatedTexts)} (message ${requestNumber}, ${Math.floor(random() * 1e9).toString(36)})`;
    const context = random() < 0.3 ? { thread_context: [pick(repeatedTexts), pick(repeatedTexts)] } : {};
    return { body: { text, user_uuid, ...context }, kind: repeat ? 'repeat' : 'new' };
  }

  function next(): PlannedRequest {
    requestNumber++;
    let roll = random();
    const endpoint = endpointMix.find(([, share]) => (roll -= share) < 0)?.[0] ?? 'text';
    const user_uuid = `soak-user-${Math.floor(random() * 40)}`;
    switch (endpoint) {
      case 'image': {
        const { url, kind } = imageUrl();
        return { endpoint, body: { url, user_uuid }, kind };
      }
      case 'batch': {
        const count = 3 + Math.floor(random() * 4);
        const images = Array.from({ length: count }, () => ({ url: imageUrl().url, user_uuid }));
        return { endpoint, body: { images, max_concurrent: 1 + Math.floor(random() * 5) }, kind: `${count} images` };
      }
      case 'video': {
        if (random() < 0.15) return { endpoint, body: { url: pick(badVideoUrls), user_uuid }, kind: 'bad url' };
        const recent = random() < 0.5;
        return { endpoint, body: { url: recent ? (videos[videos.length - 1 - Math.floor(random() * Math.min(videos.length, options.newVideosPerRound))] as string) : pick(videos), user_uuid }, kind: recent ? 'recent' : 'any' };
      }
      case 'text': {
        const { body, kind } = textBody();
        return { endpoint, body, kind };
      }
    }
  }

  return {
    content,
    async prepareRound(round) {
      for (let i = 0; i < options.newImagesPerRound; i++) await addPicture(round * 1000 + i + 2);
      await addVideos(round);
    },
    next,
    async close() {
      await content.close();
      rmSync(folder, { recursive: true, force: true });
    },
  };
}
