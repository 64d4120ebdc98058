import { spawn, spawnSync } from 'node:child_process';
import { accessSync, chmodSync, constants, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import { AppError } from '../errors.js';
import type { RgbaImage } from './image-decode.js';

/**
 * Everything that runs ffmpeg or ffprobe: finding the binaries, probing a video file and sampling
 * frames from it as RGBA pixels on a pipe. The only module that spawns them.
 *
 * Every process runs with the input restricted to the local file protocol (no network access,
 * whatever the file's playlist or references say) and is always reaped: a consumer that stops
 * reading, an abort or a timeout kills it and waits for it to exit.
 */

export type FfmpegBinaries = { ffmpeg: string; ffprobe: string; origin: 'FFMPEG_PATH' | 'system' | 'npm' };

const require = createRequire(import.meta.url);

function onPath(name: string): string | undefined {
  for (const directory of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(directory, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** npm may install packages without running their scripts (which only set the executable bit). */
function executable(path: string): string {
  try {
    accessSync(path, constants.X_OK);
  } catch {
    chmodSync(path, 0o755);
  }
  return path;
}

/**
 * FFMPEG_PATH (with ffprobe beside it, or FFPROBE_PATH) first, then ffmpeg and ffprobe on the PATH
 * (a distribution's build, kept up to date by its security team), then the static builds that
 * ship inside the @ffmpeg-installer / @ffprobe-installer npm packages.
 */
export function locateFfmpeg(configured: { ffmpegPath?: string | undefined; ffprobePath?: string | undefined } = {}): FfmpegBinaries {
  if (configured.ffmpegPath) {
    const ffprobe = configured.ffprobePath ?? join(dirname(configured.ffmpegPath), 'ffprobe');
    for (const [name, path] of [['FFMPEG_PATH', configured.ffmpegPath], ['ffprobe', ffprobe]] as const) {
      if (!existsSync(path)) throw new Error(`${name} points to ${path}, which does not exist (set FFPROBE_PATH if ffprobe lives elsewhere)`);
    }
    return { ffmpeg: configured.ffmpegPath, ffprobe, origin: 'FFMPEG_PATH' };
  }
  const systemFfmpeg = onPath('ffmpeg');
  const systemFfprobe = onPath('ffprobe');
  if (systemFfmpeg && systemFfprobe) return { ffmpeg: systemFfmpeg, ffprobe: systemFfprobe, origin: 'system' };
  const bundled = {
    ffmpeg: (require('@ffmpeg-installer/ffmpeg') as { path: string }).path,
    ffprobe: (require('@ffprobe-installer/ffprobe') as { path: string }).path,
  };
  return { ffmpeg: executable(bundled.ffmpeg), ffprobe: executable(bundled.ffprobe), origin: 'npm' };
}

/** Checks at start-up that both binaries run, so a broken install fails loudly and early. */
export function checkFfmpeg(binaries: FfmpegBinaries): string {
  for (const binary of [binaries.ffmpeg, binaries.ffprobe]) {
    const result = spawnSync(binary, ['-version'], { timeout: 10_000, encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`${binary} does not run: ${result.error?.message ?? result.stderr.slice(0, 200)}`);
  }
  const version = spawnSync(binaries.ffmpeg, ['-version'], { encoding: 'utf8' }).stdout.split('\n')[0] ?? '';
  return version.replace(/ Copyright.*$/, '');
}

export type VideoProbe = {
  /** Null when the container does not say (a WebM recorded in a browser, a stream written to a pipe). */
  durationSeconds: number | null;
  width: number;
  height: number;
  codec: string;
  /** The stream that was probed, and therefore the one that is decoded. */
  streamIndex: number;
};

type ProbedStream = { index?: number; codec_type?: string; codec_name?: string; width?: number; height?: number; duration?: string; disposition?: { attached_pic?: number } };

/** Reads duration, size and codec. Throws AppError for anything that is not a decodable video. */
export async function probeVideo(
  binaries: FfmpegBinaries,
  file: string,
  options: { timeoutMs: number; onFinished?: (seconds: number, ok: boolean) => void },
): Promise<VideoProbe> {
  const args = ['-v', 'error', '-protocol_whitelist', 'file', '-print_format', 'json', '-show_format', '-show_streams', file];
  const started = performance.now();
  const { code, stdout, stderr } = await run(binaries.ffprobe, args, options.timeoutMs).catch((error: unknown) => {
    options.onFinished?.((performance.now() - started) / 1000, false);
    throw error;
  });
  options.onFinished?.((performance.now() - started) / 1000, code === 0);
  if (code !== 0) throw new AppError('undecodable_media', `The file is not a decodable video (${firstLine(stderr) || `ffprobe exit ${code}`}).`);
  let parsed: { format?: { duration?: string }; streams?: ProbedStream[] };
  try {
    parsed = JSON.parse(stdout);
  } catch {
    throw new AppError('undecodable_media', 'The file is not a decodable video.');
  }
  // Cover art in an audio file is a picture, not a video.
  const videos = (parsed.streams ?? []).filter((stream) => stream.codec_type === 'video' && stream.width && stream.height && !stream.disposition?.attached_pic);
  if (videos.length === 0) {
    const kinds = [...new Set((parsed.streams ?? []).map((stream) => stream.codec_type))].join(', ') || 'no streams';
    throw new AppError('unsupported_media_type', `The file has no video stream (found: ${kinds}).`);
  }
  if (videos.length > 1) {
    // A player may show any of them: judging one would let the others through unseen.
    throw new AppError('unsupported_media_type', `The file has ${videos.length} video streams; only files with one video stream are accepted.`);
  }
  const video = videos[0] as ProbedStream;
  const duration = Number(parsed.format?.duration ?? video.duration);
  return {
    durationSeconds: Number.isFinite(duration) && duration > 0 ? duration : null,
    width: video.width as number,
    height: video.height as number,
    codec: video.codec_name ?? 'unknown',
    streamIndex: video.index ?? 0,
  };
}

export type SampledFrame = { index: number; timestampSeconds: number; pixels: RgbaImage };

/**
 * Decodes one frame every `intervalSeconds` (the first frame of every interval window) as RGBA,
 * scaled so the long side is exactly `longSide` pixels, up or down: a copy re-encoded at another
 * resolution then goes through the same resampling as its original, which keeps their frame hashes
 * within a few bits. Each frame carries its own presentation time, read from ffmpeg, so a video
 * with gaps or a variable frame rate reports the true time of a flagged frame.
 *
 * `timeoutMs` bounds ffmpeg's own running time: while the reader holds a frame (waiting for a
 * provider, say) the clock is paused. Stop iterating (break, return, throw) and ffmpeg is killed.
 */
export async function* sampleFrames(
  binaries: FfmpegBinaries,
  file: string,
  probe: VideoProbe,
  options: {
    intervalSeconds: number;
    longSide: number;
    maxFrames: number;
    timeoutMs: number;
    /** Called once ffmpeg has exited, with its running time (the paused time left out) and whether it decoded the video. */
    onFinished?: (runningSeconds: number, ok: boolean) => void;
  },
): AsyncGenerator<SampledFrame> {
  const scale = options.longSide / Math.max(probe.width, probe.height);
  // Even sizes: some pixel formats cannot be scaled to odd dimensions.
  const width = Math.max(2, Math.round((probe.width * scale) / 2) * 2);
  const height = Math.max(2, Math.round((probe.height * scale) / 2) * 2);
  const frameBytes = width * height * 4;
  const n = options.intervalSeconds;
  const args = [
    '-nostdin', '-hide_banner', '-nostats', '-loglevel', 'info',
    '-protocol_whitelist', 'file',
    '-i', file,
    '-map', `0:${probe.streamIndex}`, '-an', '-sn', '-dn',
    // The first frame of every interval window [k*N, (k+1)*N): exact at the ends of the video, where
    // the fps filter's rounding drops or duplicates frames. showinfo reports each kept frame's time.
    '-vf', `select='isnan(prev_selected_t)+gte(floor(t/${n})\\,floor(prev_selected_t/${n})+1)',showinfo,scale=${width}:${height}:flags=area`,
    '-vsync', '0',
    '-frames:v', String(options.maxFrames),
    '-pix_fmt', 'rgba', '-f', 'rawvideo', 'pipe:1',
  ];
  const child = spawn(binaries.ffmpeg, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let spawnError: Error | undefined;
  // Without a listener, a failed spawn (missing binary, no free process slot) would crash the process.
  child.once('error', (error) => (spawnError = error));
  const exited = new Promise<number | null>((resolve) => {
    child.once('close', (code) => resolve(code));
    child.once('error', () => resolve(null));
  });

  const times: number[] = [];
  let timeArrived: () => void = () => undefined;
  let errors = '';
  let pendingLine = '';
  child.stderr.on('data', (chunk: Buffer) => {
    const lines = (pendingLine + chunk.toString()).split('\n');
    pendingLine = lines.pop() ?? '';
    for (const line of lines) {
      const time = /showinfo.*pts_time:\s*(-?[\d.]+)/.exec(line);
      if (time) {
        times.push(Number(time[1]));
        timeArrived();
      } else if (/error|invalid/i.test(line) && errors.length < 4000) {
        errors += `${line}\n`;
      }
    }
  });

  // A budget of running time, paused while the reader holds a frame.
  let remainingMs = options.timeoutMs;
  let armedAt = 0;
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  let paused = false;
  const arm = () => {
    paused = false;
    armedAt = Date.now();
    timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, Math.max(0, remainingMs));
    timer.unref();
  };
  const pause = () => {
    clearTimeout(timer);
    remainingMs -= Date.now() - armedAt;
    paused = true;
  };
  arm();
  let failed = false;

  let buffered: Buffer = Buffer.alloc(0);
  let index = 0;
  try {
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      while (buffered.length >= frameBytes) {
        const data = new Uint8Array(buffered.subarray(0, frameBytes));
        buffered = buffered.subarray(frameBytes);
        const timestampSeconds = await frameTime(times, index, () => new Promise<void>((resolve) => (timeArrived = resolve)), exited);
        pause();
        yield { index, timestampSeconds: timestampSeconds ?? index * n, pixels: { width, height, data } };
        arm();
        index++;
      }
    }
    const code = await exited;
    if (spawnError) throw new AppError('internal_error', 'The video decoder could not be started.', { cause: spawnError });
    if (timedOut) throw new AppError('undecodable_media', `Decoding the video took longer than ${options.timeoutMs} ms (VIDEO_DECODE_TIMEOUT_MS).`);
    if (code !== 0 && index === 0) {
      throw new AppError('undecodable_media', `The video could not be decoded (${firstLine(errors) || `ffmpeg exit ${code}`}).`);
    }
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    if (!paused) pause();
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    // A reader that stops early (at a flagged frame) got what it needed: only a throw is a failure.
    options.onFinished?.((options.timeoutMs - remainingMs) / 1000, !failed);
  }
}

/**
 * The presentation time of frame `index`, as showinfo printed it. stderr and stdout are separate
 * pipes, so the line may come a moment after the pixels: wait for it, but not past ffmpeg's exit.
 */
async function frameTime(times: number[], index: number, nextTime: () => Promise<void>, exited: Promise<unknown>): Promise<number | undefined> {
  while (times.length <= index) {
    const ended = await Promise.race([nextTime().then(() => false), exited.then(() => true)]);
    if (ended) break;
  }
  const time = times[index];
  return time === undefined ? undefined : Math.round(time * 1000) / 1000;
}

function firstLine(text: string): string {
  // ffmpeg prefixes messages with the input path: keep the message, never the path.
  return (text.split('\n').find((line) => line.trim()) ?? '').replace(/^.*?: /, '').slice(0, 200);
}

function run(binary: string, args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}
