/**
 * Hamming distances between real pictures, through the production hashing path, to justify the
 * near-duplicate reuse distances (DEDUPE_PASS_MAX_DISTANCE, DEDUPE_FLAGGED_MAX_DISTANCE) and the
 * low-detail threshold (DEDUPE_MIN_DETAIL).
 *
 *   npx tsx bench/near-duplicate-distances.ts
 *   TESTDATA_DIR=/path/to/testdata npx tsx bench/near-duplicate-distances.ts
 *
 * Reads ../shared/testdata/images (third-party pictures, never copied into the repository; the
 * re-encoded copies below live only in memory). Every picture goes through decodeImage +
 * computePerceptualHash + detailLevel exactly as the service runs them, so the numbers include our
 * decoder's behaviour (JPEG shrink-on-load, ignored ICC profiles, EXIF rotation).
 *
 * Groups:
 * - same picture: published pairs of one picture and an edit of it. How many of them a distance
 *   threshold catches is the benefit of that threshold.
 * - re-encoded copies: what a platform does to an upload (resize, recompress), generated here.
 * - distinct: pairs of unrelated photos. How many of them fall within a threshold is its risk:
 *   a reused decision for a picture that was never judged.
 * Percentiles are nearest-rank over the pairs of the group.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp, { type Sharp } from 'sharp';
import { loadConfig } from '../src/config.js';
import { decodeImage } from '../src/media/image-decode.js';
import { computePerceptualHash, detailLevel, hammingDistance, type PerceptualHash } from '../src/dedupe/perceptual-hash.js';

const THRESHOLDS = [6, 8, 10, 12, 15] as const;

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// Only the variables this bench is about are passed on, so unrelated settings in the shell cannot
// stop it; defaults come from the one place that defines them.
const config = loadConfig({
  IMAGE_MAX_PIXELS: process.env.IMAGE_MAX_PIXELS,
  DEDUPE_PASS_MAX_DISTANCE: process.env.DEDUPE_PASS_MAX_DISTANCE,
  DEDUPE_FLAGGED_MAX_DISTANCE: process.env.DEDUPE_FLAGGED_MAX_DISTANCE,
  DEDUPE_MIN_DETAIL: process.env.DEDUPE_MIN_DETAIL,
});

type Hashed = { hash: PerceptualHash | null; detail: number; width: number; height: number };
type Pair = { a: string; b: string; distance: number };

/** Decoded results by path relative to images/, so every file is decoded once. */
const decoded = new Map<string, Hashed | { error: string }>();

async function main(): Promise<number> {
  const cpus = os.cpus();
  console.log(`Machine: ${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, Node ${process.version}, libvips ${sharp.versions.vips}`);

  const override = process.env.TESTDATA_DIR;
  const testdataDir = override ? path.resolve(override) : path.resolve(repoRoot, '../shared/testdata');
  const imagesDir = path.join(testdataDir, 'images');
  if (!existsSync(imagesDir)) {
    const where = override ? `TESTDATA_DIR=${override} has no images/ folder` : '../shared/testdata is absent';
    console.log(`Skipped: ${where} (looked for ${imagesDir}). Nothing to measure.`);
    return 0;
  }
  console.log(`Images: ${imagesDir}`);
  console.log(
    `Production settings: IMAGE_MAX_PIXELS=${config.imageMaxPixels}, DEDUPE_PASS_MAX_DISTANCE=${config.dedupe.passMaxDistance}, ` +
      `DEDUPE_FLAGGED_MAX_DISTANCE=${config.dedupe.flaggedMaxDistance}, DEDUPE_MIN_DETAIL=${config.dedupe.minDetail}`,
  );

  // Decode every picture in the folder, not only those in a pair: the detail list and the list of
  // undecodable files then cover all the material.
  const started = performance.now();
  const files = (await listFiles(imagesDir)).filter((file) => !/\.(txt|md)$/i.test(file));
  for (const file of files) decoded.set(file, await hashFile(path.join(imagesDir, file)));
  const elapsed = performance.now() - started;
  console.log(`Decoded and hashed ${files.length} files in ${(elapsed / 1000).toFixed(1)} s (${(elapsed / files.length).toFixed(0)} ms per file, sequential).`);

  const failures = [...decoded].filter((entry): entry is [string, { error: string }] => 'error' in entry[1]);
  console.log(`\nFiles that did not decode (${failures.length}, excluded from every group):`);
  for (const [file, { error }] of failures) console.log(`  ${file}: ${error}`);
  const noHash = [...decoded].filter(([, entry]) => !('error' in entry) && entry.hash === null).map(([file]) => file);
  console.log(`Decoded but no hash (smaller than the grid): ${noHash.length ? noHash.join(', ') : 'none'}`);

  // --- same picture -------------------------------------------------------------------------
  const sameGroups: [string, Pair[]][] = [
    ['bridge-mods (aaa-orig vs 11 edits)', oneAgainstFolder('threatexchange-pdq/bridge-mods', 'aaa-orig.jpg')],
    ['forest (forest-high vs 4 edits)', oneAgainstFolder('jenssegers-imagehash/forest', 'forest-high.jpg')],
    ['pdq modes (original vs pixel modes)', oneAgainstFolder('threatexchange-pdq/modes', 'original.jpg')],
    ['jimagehash (base vs bright/dark/hue)', oneAgainst('jimagehash/highQualityBase.png', ['highQualityBright.png', 'highQualityDark.png', 'highQualityHue.png'].map((f) => `jimagehash/${f}`))],
    ['imagededup resize', oneAgainst('imagededup/mixed_images/ukbench00120.jpg', ['imagededup/mixed_images/ukbench00120_resize.jpg'])],
    ['bigbuckbunny ICC profiles', oneAgainst('johannesbuchner-imagehash/bigbuckbunny.png', ['johannesbuchner-imagehash/bigbuckbunny-with-diff-icc.png'])],
    ['letterboxed copy', oneAgainst('threatexchange-python/sample-b.jpg', ['threatexchange-python/letterboxed_sample-b.jpg'])],
  ];
  const samePairs = sameGroups.flatMap(([, pairs]) => pairs);

  // --- re-encoded copies ------------------------------------------------------------------------
  const reencoded = await reencodedPairs(imagesDir);
  const reencodedAll = reencoded.flatMap(([, pairs]) => pairs);

  // --- distinct ----------------------------------------------------------------------------------
  const distinctFiles = ['imagededup/base_images', 'threatexchange-pdq/labelme-subset', 'jenssegers-imagehash/office'].flatMap((folder) =>
    filesIn(folder),
  );
  const distinctPairs = allPairs(distinctFiles);

  console.log('\n== Hamming distance (of 256 bits) per group ==');
  console.log(`"<=N" columns: pairs at or below that distance (same picture: caught; distinct: wrongly matched).`);
  printHeader();
  console.log('same picture');
  for (const [name, pairs] of sameGroups) printRow(`  ${name}`, pairs);
  printRow('  all same-picture pairs', samePairs);
  console.log('re-encoded copies (made here with sharp, 10 photos)');
  for (const [name, pairs] of reencoded) printRow(`  ${name}`, pairs);
  printRow('  all re-encoded pairs', reencodedAll);
  console.log(`distinct (all pairs of ${distinctFiles.length} unrelated photos)`);
  printRow('  distinct pairs', distinctPairs);

  console.log('\nSame-picture pairs one by one:');
  for (const pair of [...samePairs].sort((x, y) => x.distance - y.distance)) {
    console.log(`  ${String(pair.distance).padStart(3)}  ${pair.a} vs ${path.basename(pair.b)}`);
  }
  console.log('\nRe-encoded copies, largest distance per photo:');
  for (const source of REENCODE_SOURCES) {
    const pairs = reencodedAll.filter((pair) => pair.a === source);
    if (pairs.length) console.log(`  ${String(Math.max(...pairs.map((p) => p.distance))).padStart(3)}  ${source} (${pairs.map((p) => p.distance).join(', ')})`);
  }
  // bmvbhash thresholds each quarter of the grid at its median, so a picture without ties at the
  // median has exactly half of each quarter's bits set, and two such hashes differ by an even
  // number of bits: a limit of 7 behaves like 6, 13 like 12.
  const counted = [...samePairs, ...reencodedAll, ...distinctPairs];
  const odd = counted.filter((pair) => pair.distance % 2 === 1);
  console.log(`\nOdd distances: ${odd.length} of ${counted.length} pairs above${odd.length ? ` (${odd.map((p) => `${p.a} vs ${p.b}`).join('; ')})` : ''}.`);

  const closest = [...distinctPairs].sort((x, y) => x.distance - y.distance).slice(0, 5);
  console.log(`\nDistinct: minimum distance ${closest[0]?.distance ?? '-'}; closest pairs:`);
  for (const pair of closest) console.log(`  ${String(pair.distance).padStart(3)}  ${pair.a} vs ${pair.b}`);

  // Pairs the README describes that are not "same picture" for blockhash: rotations (it is not
  // rotation-invariant), and a white logo on transparency, which counts as white on white and so is
  // a near-flat picture whose hash is decided by its anti-aliased edges.
  const informational: [string, Pair[]][] = [
    ['dih rotations/flips (not rotation-invariant)', oneAgainstFolder('threatexchange-pdq/dih', 'bridge-1-original.jpg')],
    ['jimagehash black vs white logo on transparency', [
      ...oneAgainst('jimagehash/transparent0.png', ['jimagehash/transparent0White.png']),
      ...oneAgainst('jimagehash/transparent1.png', ['jimagehash/transparent1White.png']),
    ]],
  ];
  console.log('\nFor information (not counted as same picture):');
  printHeader();
  for (const [name, pairs] of informational) printRow(`  ${name}`, pairs);

  await printDetail();
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Re-encoded copies

/**
 * Ten distinct photos of varied size and source. aaa-orig.jpg stands for its byte-identical twins
 * (pdq modes/original.jpg, threatexchange-python sample-b.jpg); exif-rotn-1.jpg is a 12-megapixel
 * phone photo, so the JPEG shrink-on-load path is exercised at full strength.
 */
const REENCODE_SOURCES = [
  'threatexchange-pdq/bridge-mods/aaa-orig.jpg',
  'threatexchange-pdq/exif-rotn/exif-rotn-1.jpg',
  'threatexchange-pdq/labelme-subset/q0122.jpg',
  'jenssegers-imagehash/forest/forest-high.jpg',
  'jenssegers-imagehash/office/tumblr_ndyfdoR6Wp1tubinno1_1280.jpg',
  'jenssegers-imagehash/office/tumblr_ndyfnr7lk21tubinno1_1280.jpg',
  'jimagehash/ballon.jpg',
  'johannesbuchner-imagehash/bigbuckbunny.png',
  'imagededup/base_images/ukbench00120.jpg',
  'imagededup/base_images/ukbench09040.jpg',
];

/**
 * Resized copies are written as PNG so that the row measures the resize alone; the JPEG and WebP
 * rows keep the full size so that they measure the compression alone; the last row combines both,
 * the way a platform thumbnail is made. The source is read with its ICC profile ignored, as the
 * decode path does, so a colour conversion does not masquerade as a re-encoding difference.
 */
const TRANSFORMS: [string, (image: Sharp, width: number) => Sharp][] = [
  ['resize 50% (PNG)', (image, width) => image.resize(Math.round(width / 2)).png()],
  ['resize 75% (PNG)', (image, width) => image.resize(Math.round((width * 3) / 4)).png()],
  ['JPEG quality 60', (image) => image.jpeg({ quality: 60 })],
  ['WebP (quality 80)', (image) => image.webp({ quality: 80 })],
  ['resize 50% + JPEG 75', (image, width) => image.resize(Math.round(width / 2)).jpeg({ quality: 75 })],
];

async function reencodedPairs(imagesDir: string): Promise<[string, Pair[]][]> {
  const groups: [string, Pair[]][] = TRANSFORMS.map(([name]) => [name, []]);
  for (const source of REENCODE_SOURCES) {
    const original = decoded.get(source);
    if (!original || 'error' in original || !original.hash) {
      console.log(`  re-encoding: ${source} unavailable, skipped`);
      continue;
    }
    const bytes = await readFile(path.join(imagesDir, source));
    for (const [index, [name, transform]] of TRANSFORMS.entries()) {
      const copy = await transform(sharp(bytes, { ignoreIcc: true, autoOrient: true }), original.width).toBuffer();
      const result = await hashBytes(copy);
      if ('error' in result || !result.hash) {
        console.log(`  re-encoding: ${source} ${name} gave no hash (${'error' in result ? result.error : 'smaller than grid'})`);
        continue;
      }
      groups[index]?.[1].push({ a: source, b: `${source} [${name}]`, distance: hammingDistance(original.hash, result.hash) });
    }
  }
  return groups;
}

// ---------------------------------------------------------------------------------------------
// Detail level

async function printDetail(): Promise<void> {
  const entries = [...decoded]
    .flatMap(([file, entry]) => ('error' in entry ? [] : [{ file, detail: entry.detail }]))
    .sort((x, y) => x.detail - y.detail);
  const values = entries.map((entry) => entry.detail);
  console.log(`\n== detailLevel (std. dev. of the 16x16 block brightness, 0..255) of ${entries.length} decoded files ==`);
  console.log(
    `min ${fmt(values[0])}, p10 ${fmt(percentile(values, 10))}, median ${fmt(percentile(values, 50))}, max ${fmt(values.at(-1))}; ` +
      `below 2: ${values.filter((v) => v < 2).length}, below 4: ${values.filter((v) => v < 4).length}, below 8: ${values.filter((v) => v < 8).length}, below 16: ${values.filter((v) => v < 16).length}`,
  );
  const cells = entries.map((entry) => `${fmt(entry.detail).padStart(5)} ${shortName(entry.file)}`);
  for (let i = 0; i < cells.length; i += 3) console.log(`  ${cells.slice(i, i + 3).map((cell) => cell.padEnd(46)).join('').trimEnd()}`);

  // Generated pictures with almost nothing in them: where a "low detail" threshold has to sit.
  const size = 512;
  const synthetic: [string, Buffer][] = [
    ['flat grey 128', rawImage(size, () => 128)],
    ['near-flat gradient 120..136 (left to right)', rawImage(size, (x) => 120 + Math.round((16 * x) / (size - 1)))],
    ['flat grey 128 + noise +-3', rawImage(size, (x, y) => 128 + ((x * 7919 + y * 104729) % 7) - 3)],
    ['gradient 96..160 (left to right)', rawImage(size, (x) => 96 + Math.round((64 * x) / (size - 1)))],
    ['full gradient 0..255 (left to right)', rawImage(size, (x) => Math.round((255 * x) / (size - 1)))],
  ];
  console.log('\nGenerated images (512x512 grey, encoded as PNG and as JPEG quality 90, then the production path):');
  const hashes: [string, PerceptualHash | null][] = [];
  for (const [name, raw] of synthetic) {
    const input = sharp(raw, { raw: { width: size, height: size, channels: 1 } });
    const png = await hashBytes(await input.clone().png().toBuffer());
    const jpeg = await hashBytes(await input.clone().jpeg({ quality: 90 }).toBuffer());
    const pngText = 'error' in png ? png.error : fmt(png.detail);
    const jpegText = 'error' in jpeg ? jpeg.error : fmt(jpeg.detail);
    console.log(`  ${name.padEnd(46)} detail PNG ${pngText.padStart(6)}, JPEG ${jpegText.padStart(6)}`);
    if (!('error' in png)) hashes.push([name, png.hash]);
  }
  // Why flat pictures must not reuse a pass: their hashes are near-arbitrary, so unrelated flat
  // pictures land close to each other.
  const [flatName, flatHash] = hashes[0] ?? ['', null];
  if (flatHash) {
    console.log(`  distance from "${flatName}" (hash ${flatHash.hex.slice(0, 16)}...):`);
    for (const [name, hash] of hashes.slice(1)) console.log(`    ${name}: ${hash ? hammingDistance(flatHash, hash) : 'no hash'}`);
  }
}

/** A one-channel square image whose grey level is given per pixel. */
function rawImage(size: number, grey: (x: number, y: number) => number): Buffer {
  const data = Buffer.alloc(size * size);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) data[y * size + x] = Math.max(0, Math.min(255, grey(x, y)));
  return data;
}

// ---------------------------------------------------------------------------------------------
// Pairs and statistics

function filesIn(folder: string): string[] {
  return [...decoded.keys()].filter((file) => path.dirname(file) === folder).sort();
}

function oneAgainstFolder(folder: string, reference: string): Pair[] {
  const referencePath = `${folder}/${reference}`;
  return oneAgainst(referencePath, filesIn(folder).filter((file) => file !== referencePath));
}

/** Pairs with a file that did not decode or has no hash are left out (they are listed above). */
function oneAgainst(reference: string, others: string[]): Pair[] {
  const a = hashOf(reference);
  if (!a) return [];
  return others.flatMap((other) => {
    const b = hashOf(other);
    return b ? [{ a: reference, b: other, distance: hammingDistance(a, b) }] : [];
  });
}

function allPairs(files: string[]): Pair[] {
  return files.flatMap((a, i) => files.slice(i + 1).flatMap((b) => {
    const hashA = hashOf(a);
    const hashB = hashOf(b);
    return hashA && hashB ? [{ a, b, distance: hammingDistance(hashA, hashB) }] : [];
  }));
}

function hashOf(file: string): PerceptualHash | null {
  const entry = decoded.get(file);
  if (!entry) console.log(`  missing: ${file}`);
  return entry && !('error' in entry) ? entry.hash : null;
}

function printHeader(): void {
  const thresholds = THRESHOLDS.map((t) => `<=${t}`.padStart(6)).join('');
  console.log(`${'group'.padEnd(48)}${'count'.padStart(6)}${'min'.padStart(5)}${'p50'.padStart(5)}${'p90'.padStart(5)}${'max'.padStart(5)}${thresholds}`);
}

function printRow(name: string, pairs: Pair[]): void {
  const sorted = pairs.map((pair) => pair.distance).sort((x, y) => x - y);
  const stat = (value: number | undefined) => String(value ?? '-').padStart(5);
  const thresholds = THRESHOLDS.map((t) => String(sorted.filter((d) => d <= t).length).padStart(6)).join('');
  console.log(
    `${name.padEnd(48)}${String(sorted.length).padStart(6)}${stat(sorted[0])}${stat(percentile(sorted, 50))}${stat(percentile(sorted, 90))}${stat(sorted.at(-1))}${thresholds}`,
  );
}

/** Nearest-rank percentile of an ascending list. */
function percentile(sorted: number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
}

// ---------------------------------------------------------------------------------------------
// Production path

async function hashFile(file: string): Promise<Hashed | { error: string }> {
  return hashBytes(await readFile(file));
}

async function hashBytes(bytes: Uint8Array): Promise<Hashed | { error: string }> {
  try {
    const image = await decodeImage(bytes, { maxPixels: config.imageMaxPixels });
    return { hash: computePerceptualHash(image.pixels), detail: detailLevel(image.pixels), width: image.width, height: image.height };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const entries = await readdir(path.join(dir, prefix), { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((entry) => {
      const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
      return entry.isDirectory() ? listFiles(dir, relative) : Promise.resolve([relative]);
    }),
  );
  return nested.flat().sort();
}

function shortName(file: string): string {
  const parts = file.split('/');
  return parts.length > 2 ? parts.slice(-2).join('/') : file;
}

function fmt(value: number | undefined): string {
  return value === undefined ? '-' : value.toFixed(1);
}

process.exitCode = await main();
