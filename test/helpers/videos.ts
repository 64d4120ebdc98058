import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { locateFfmpeg } from '../../src/media/ffmpeg.js';

/**
 * Test videos generated with ffmpeg's own sources: `testsrc2` (moving, detailed), `smptebars`
 * (static), and flat colours, joined in segments so a test knows what is shown when.
 */

const run = promisify(execFile);

export type Segment =
  | { source: 'moving' | 'bars' | 'mandelbrot'; seconds: number }
  | { source: 'colour'; colour: string; seconds: number }
  /** A still picture (a generated PNG) shown for `seconds`: distinct scenes for sampling tests. */
  | { source: 'picture'; path: string; seconds: number };

function input(segment: Segment, size: string, rate: number): string[] {
  switch (segment.source) {
    case 'moving':
      return ['-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=${rate}:duration=${segment.seconds}`];
    case 'bars':
      return ['-f', 'lavfi', '-i', `smptebars=size=${size}:rate=${rate}:duration=${segment.seconds}`];
    case 'mandelbrot':
      return ['-f', 'lavfi', '-i', `mandelbrot=size=${size}:rate=${rate},trim=duration=${segment.seconds}`];
    case 'colour':
      return ['-f', 'lavfi', '-i', `color=c=${segment.colour}:size=${size}:rate=${rate}:duration=${segment.seconds}`];
    case 'picture':
      return ['-loop', '1', '-framerate', String(rate), '-t', String(segment.seconds), '-i', segment.path];
  }
}

export async function makeVideo(
  path: string,
  segments: Segment[],
  options: { size?: string; rate?: number; bitrate?: string; extraArgs?: string[] } = {},
): Promise<string> {
  const { ffmpeg } = locateFfmpeg();
  const size = options.size ?? '320x240';
  const rate = options.rate ?? 10;
  const inputs = segments.flatMap((segment) => input(segment, size, rate));
  const [width, height] = size.split('x');
  // Every segment to one size, aspect and rate, then joined end to end.
  const normalise = segments.map((_, i) => `[${i}:v]scale=${width}:${height},setsar=1,fps=${rate},format=yuv420p[v${i}]`).join(';');
  const concat = `${normalise};${segments.map((_, i) => `[v${i}]`).join('')}concat=n=${segments.length}:v=1:a=0[out]`;
  await run(ffmpeg, [
    '-y', '-loglevel', 'error', ...inputs,
    '-filter_complex', concat, '-map', '[out]',
    '-c:v', 'libx264', '-pix_fmt', 'yuv420p', ...(options.bitrate ? ['-b:v', options.bitrate] : []),
    ...(options.extraArgs ?? []),
    path,
  ]);
  return path;
}

/** Re-encodes a video as a platform would: another size and bitrate. */
export async function reencode(input: string, output: string, options: { size: string; bitrate: string; trimStartSeconds?: number }): Promise<string> {
  const { ffmpeg } = locateFfmpeg();
  await run(ffmpeg, [
    '-y', '-loglevel', 'error',
    ...(options.trimStartSeconds ? ['-ss', String(options.trimStartSeconds)] : []),
    '-i', input, '-vf', `scale=${options.size.replace('x', ':')}`, '-c:v', 'libx264', '-b:v', options.bitrate, '-pix_fmt', 'yuv420p', output,
  ]);
  return output;
}

export async function makeAudioOnly(path: string): Promise<string> {
  const { ffmpeg } = locateFfmpeg();
  await run(ffmpeg, ['-y', '-loglevel', 'error', '-f', 'lavfi', '-i', 'sine=duration=3', path]);
  return path;
}
