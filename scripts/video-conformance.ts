/**
 * Video dedupe on real clips: samples ../shared/testdata/videos/ through the production path
 * (ffmpeg sampling at VIDEO_SAMPLE_INTERVAL_S and VIDEO_FRAME_SIZE, blockhash per frame) and
 * reports, for every pair, the share of the first clip's frames that some frame of the second clip
 * matches within DEDUPE_PASS_MAX_DISTANCE: the rule that makes a video a duplicate of a stored one
 * at VIDEO_DUPLICATE_MIN_MATCH.
 *
 *   npm run conformance            (runs the image vectors, then this)
 *   TESTDATA_DIR=/path/to/testdata tsx scripts/video-conformance.ts
 *
 * Expected, and checked: the three chair clips match each other; the doorknob clip matches none.
 * Skipped, with a message, when the folder is absent.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config.js';
import { computePerceptualHash, hammingDistance, type PerceptualHash } from '../src/dedupe/perceptual-hash.js';
import { locateFfmpeg, probeVideo, sampleFrames } from '../src/media/ffmpeg.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const testdata = process.env.TESTDATA_DIR ? path.resolve(process.env.TESTDATA_DIR) : path.resolve(repoRoot, '../shared/testdata');
const folder = path.join(testdata, 'videos');

if (!existsSync(folder)) {
  console.log(`Video conformance skipped: ${folder} is absent. Set TESTDATA_DIR to a testdata folder to run it.`);
  process.exit(0);
}

const config = loadConfig({
  VIDEO_SAMPLE_INTERVAL_S: process.env.VIDEO_SAMPLE_INTERVAL_S,
  VIDEO_FRAME_SIZE: process.env.VIDEO_FRAME_SIZE,
  DEDUPE_PASS_MAX_DISTANCE: process.env.DEDUPE_PASS_MAX_DISTANCE,
  VIDEO_DUPLICATE_MIN_MATCH: process.env.VIDEO_DUPLICATE_MIN_MATCH,
});
const binaries = locateFfmpeg();
const files = readdirSync(folder, { recursive: true, encoding: 'utf8' })
  .filter((name) => name.endsWith('.mp4'))
  .sort();

console.log(`Video conformance: ${folder}`);
console.log(
  `Sampling every ${config.video.sampleIntervalSeconds} s at ${config.video.frameSize} px; frame match <= ${config.dedupe.passMaxDistance} bits; duplicate at >= ${config.video.duplicateMinMatch * 100}% of frames\n`,
);

const hashes = new Map<string, PerceptualHash[]>();
for (const file of files) {
  const full = path.join(folder, file);
  try {
    const probe = await probeVideo(binaries, full, { timeoutMs: 60_000 });
    const frames: PerceptualHash[] = [];
    for await (const frame of sampleFrames(binaries, full, probe, {
      intervalSeconds: config.video.sampleIntervalSeconds,
      longSide: config.video.frameSize,
      maxFrames: config.video.maxFrames,
      timeoutMs: 120_000,
    })) {
      const hash = computePerceptualHash(frame.pixels);
      if (hash) frames.push(hash);
    }
    hashes.set(file, frames);
    console.log(`  ${file}: ${probe.width}x${probe.height} ${probe.codec}, ${probe.durationSeconds?.toFixed(1) ?? '?'} s, ${frames.length} frames`);
  } catch (error) {
    console.log(`  ${file}: could not be analysed (${error instanceof Error ? error.message : String(error)})`);
  }
}

/** Share of `stored`'s frames that some frame of `incoming` matches. */
function matchRatio(stored: PerceptualHash[], incoming: PerceptualHash[]): number {
  if (stored.length === 0) return 0;
  const matched = stored.filter((frame) => incoming.some((other) => hammingDistance(frame, other) <= config.dedupe.passMaxDistance));
  return matched.length / stored.length;
}

const names = [...hashes.keys()];
const short = (name: string) => path.basename(name, '.mp4').slice(0, 16);
console.log(`\nShare of the row clip's frames matched by the column clip:\n`);
console.log(`${''.padEnd(18)}${names.map((name) => short(name).padStart(18)).join('')}`);
for (const stored of names) {
  const row = names.map((incoming) => (stored === incoming ? '-' : `${Math.round(matchRatio(hashes.get(stored) ?? [], hashes.get(incoming) ?? []) * 100)}%`));
  console.log(`${short(stored).padEnd(18)}${row.map((cell) => cell.padStart(18)).join('')}`);
}

const duplicate = (a: string, b: string) => matchRatio(hashes.get(a) ?? [], hashes.get(b) ?? []) >= config.video.duplicateMinMatch;
const chairs = names.filter((name) => name.includes('chair'));
const doorknob = names.find((name) => name.includes('doorknob'));
const failures: string[] = [];
for (const a of chairs) for (const b of chairs) if (a !== b && !duplicate(a, b)) failures.push(`${short(b)} is not a duplicate of ${short(a)}`);
if (doorknob) for (const other of names) if (other !== doorknob && (duplicate(other, doorknob) || duplicate(doorknob, other))) failures.push(`${short(doorknob)} matches ${short(other)}`);
if (chairs.length < 3 || !doorknob) failures.push('the chair clips or the doorknob clip are missing');

console.log('');
if (failures.length > 0) {
  console.log(`FAIL: ${failures.join('; ')}`);
  process.exitCode = 1;
} else {
  console.log('PASS: the chair clips are duplicates of each other; the doorknob clip matches none.');
}
