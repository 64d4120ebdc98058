import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../src/errors.js';
import { checkFfmpeg, locateFfmpeg, probeVideo, sampleFrames, type SampledFrame, type VideoProbe } from '../src/media/ffmpeg.js';
import { rejection } from './helpers/rejection.js';
import { makeAudioOnly, makeVideo } from './helpers/videos.js';

/** Real ffmpeg on generated videos: probing, sampling, and never leaving a process behind. */

const binaries = locateFfmpeg();
const run = promisify(execFile);
/** ffmpeg processes whose arguments name `file`, read from /proc. */
function processesReading(file: string): number {
  let count = 0;
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (basename(argv[0] ?? '') === 'ffmpeg' && argv.includes(file)) count++;
    } catch {
      // the process ended while we looked
    }
  }
  return count;
}

describe('ffmpeg', () => {
  let folder: string;
  let video: string;
  let probe: VideoProbe;

  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), 'ffmpeg-test-'));
    video = await makeVideo(join(folder, 'ten-seconds.mp4'), [{ source: 'moving', seconds: 10 }], { size: '640x360' });
    probe = await probeVideo(binaries, video, { timeoutMs: 10_000 });
  });

  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it('runs, from FFMPEG_PATH, the system or the npm package', () => {
    expect(['FFMPEG_PATH', 'system', 'npm']).toContain(binaries.origin);
    expect(checkFfmpeg(binaries)).toMatch(/ffmpeg version/);
  });

  it('says which setting is wrong when FFMPEG_PATH points nowhere', () => {
    expect(() => locateFfmpeg({ ffmpegPath: '/nonexistent/ffmpeg' })).toThrow(/FFMPEG_PATH points to \/nonexistent\/ffmpeg/);
    expect(locateFfmpeg({ ffmpegPath: binaries.ffmpeg, ffprobePath: binaries.ffprobe })).toMatchObject({ origin: 'FFMPEG_PATH' });
  });

  it('probes duration, size and codec', () => {
    expect(probe).toEqual({ durationSeconds: 10, width: 640, height: 360, codec: 'h264', streamIndex: 0 });
  });

  it('samples the first frame of every interval, scaled down, as RGBA', async () => {
    const frames: SampledFrame[] = [];
    for await (const frame of sampleFrames(binaries, video, probe, { intervalSeconds: 3, longSide: 320, maxFrames: 100, timeoutMs: 20_000 })) frames.push(frame);
    expect(frames.map((frame) => frame.timestampSeconds)).toEqual([0, 3, 6, 9]);
    expect(frames[0]?.pixels).toMatchObject({ width: 320, height: 180 });
    expect(frames[0]?.pixels.data.length).toBe(320 * 180 * 4);
  });

  it('stops at maxFrames', async () => {
    let count = 0;
    for await (const _frame of sampleFrames(binaries, video, probe, { intervalSeconds: 1, longSide: 64, maxFrames: 4, timeoutMs: 20_000 })) count++;
    expect(count).toBe(4);
  });

  it('kills ffmpeg when the reader stops early', async () => {
    for await (const frame of sampleFrames(binaries, video, probe, { intervalSeconds: 1, longSide: 320, maxFrames: 100, timeoutMs: 20_000 })) {
      if (frame.index === 1) break;
    }
    expect(processesReading(video)).toBe(0);
  });

  it('gives up on a decode that takes too long, and leaves no process', async () => {
    const error = await rejection(
      (async () => {
        for await (const _frame of sampleFrames(binaries, video, probe, { intervalSeconds: 0.1, longSide: 640, maxFrames: 1000, timeoutMs: 1 })) {
          // keep reading
        }
      })(),
      AppError,
    );
    expect(error.detail).toMatch(/took longer/);
    expect(processesReading(video)).toBe(0);
  });

  it('reports the real time of each sampled frame when the video has gaps', async () => {
    // One frame every 5 s: windows of 3 s without any frame are skipped, not numbered.
    const sparse = await makeVideo(join(folder, 'sparse.mp4'), [{ source: 'moving', seconds: 20 }], { rate: 0.2 });
    const sparseProbe = await probeVideo(binaries, sparse, { timeoutMs: 10_000 });
    const times: number[] = [];
    for await (const frame of sampleFrames(binaries, sparse, sparseProbe, { intervalSeconds: 3, longSide: 64, maxFrames: 100, timeoutMs: 20_000 })) times.push(frame.timestampSeconds);
    expect(times).toEqual([0, 5, 10, 15]);
  });

  it('does not count time the reader holds a frame against the decode budget', async () => {
    let count = 0;
    for await (const _frame of sampleFrames(binaries, video, probe, { intervalSeconds: 3, longSide: 64, maxFrames: 100, timeoutMs: 1500 })) {
      count++;
      await new Promise((resolve) => setTimeout(resolve, 600));
    }
    expect(count).toBe(4);
  });

  it('answers a decoder that cannot start with an error, not a crash', async () => {
    const broken = { ...binaries, ffmpeg: join(folder, 'no-such-ffmpeg') };
    const error = await rejection(
      (async () => {
        for await (const _frame of sampleFrames(broken, video, probe, { intervalSeconds: 3, longSide: 64, maxFrames: 10, timeoutMs: 5_000 })) {
          // nothing arrives
        }
      })(),
      AppError,
    );
    expect(error).toMatchObject({ code: 'internal_error', detail: 'The video decoder could not be started.' });
  });

  it('refuses a file with more than one video stream', async () => {
    const twoStreams = join(folder, 'two-streams.mkv');
    await run(binaries.ffmpeg, ['-y', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=duration=2', '-f', 'lavfi', '-i', 'color=c=blue:duration=2', '-map', '0', '-map', '1', '-c:v', 'libx264', twoStreams]);
    const error = await rejection(probeVideo(binaries, twoStreams, { timeoutMs: 10_000 }), AppError);
    expect(error).toMatchObject({ code: 'unsupported_media_type', detail: expect.stringContaining('2 video streams') });
  });

  it('samples a WebM written as a stream, without a duration in its header', async () => {
    const webm = join(folder, 'streamed.webm');
    await run('sh', ['-c', `"${binaries.ffmpeg}" -loglevel error -f lavfi -i testsrc=duration=7:size=320x240:rate=10 -c:v libvpx -b:v 200k -f webm pipe:1 > "${webm}"`]);
    const streamed = await probeVideo(binaries, webm, { timeoutMs: 10_000 });
    expect(streamed.durationSeconds).toBeNull();
    let count = 0;
    for await (const _frame of sampleFrames(binaries, webm, streamed, { intervalSeconds: 3, longSide: 64, maxFrames: 100, timeoutMs: 20_000 })) count++;
    expect(count).toBe(3);
  });

  it('refuses files that are not videos, naming what they are', async () => {
    const text = join(folder, 'notes.mp4');
    writeFileSync(text, 'this is not a video');
    expect((await rejection(probeVideo(binaries, text, { timeoutMs: 10_000 }), AppError)).code).toBe('undecodable_media');
    const audio = await makeAudioOnly(join(folder, 'sound.m4a'));
    const audioError = await rejection(probeVideo(binaries, audio, { timeoutMs: 10_000 }), AppError);
    expect(audioError).toMatchObject({ code: 'unsupported_media_type', detail: expect.stringContaining('audio') });
    expect(audioError.detail).not.toContain(folder);
  });
});
