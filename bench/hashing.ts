import { cpus } from 'node:os';
import sharp from 'sharp';
import { computePerceptualHash, detailLevel, hammingDistance, type PerceptualHash } from '../src/dedupe/perceptual-hash.js';
import { decodeImage } from '../src/media/image-decode.js';
import { patternImage } from '../test/helpers/images.js';

/**
 * What identifying an image costs: decoding (full size, and the JPEG shrink-on-load path production
 * uses) against hashing the decoded pixels, on one core, plus how far the two paths' hashes differ.
 *
 *   npx tsx bench/hashing.ts
 */

sharp.concurrency(1);

async function photo(width: number, height: number, format: 'jpeg' | 'png'): Promise<Buffer> {
  // Smooth shapes plus fine noise: compresses like a photograph, not like a flat test card.
  const base = await patternImage(4242, { width, height, format: 'png' });
  const noise = await sharp({ create: { width, height, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 30 } } })
    .png()
    .toBuffer();
  const noisy = sharp(base).composite([{ input: noise, blend: 'soft-light' }]);
  return format === 'jpeg' ? noisy.jpeg({ quality: 88 }).toBuffer() : noisy.png({ compressionLevel: 6 }).toBuffer();
}

async function timeIt<T>(runs: number, fn: () => Promise<T> | T): Promise<{ msPerRun: number; last: T }> {
  let last = await fn();
  const started = performance.now();
  for (let i = 0; i < runs; i++) last = await fn();
  return { msPerRun: (performance.now() - started) / runs, last };
}

const cases: [string, Buffer, number][] = [
  ['1 MP JPEG (1152x864)', await photo(1152, 864, 'jpeg'), 40],
  ['12 MP JPEG (4000x3000)', await photo(4000, 3000, 'jpeg'), 8],
  ['12 MP PNG (4000x3000)', await photo(4000, 3000, 'png'), 4],
];

console.log(`Machine: ${cpus()[0]?.model ?? 'unknown'}, one core (sharp.concurrency(1)), Node ${process.version}\n`);
console.log('image                      size KB  full decode ms  production decode ms  hash ms  detail ms  hash/decode  images/s/core full  images/s/core production  bits apart');
for (const [label, bytes, runs] of cases) {
  const full = await timeIt(runs, async () => {
    const { data, info } = await sharp(bytes, { ignoreIcc: true, autoOrient: true }).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    return { width: info.width, height: info.height, data };
  });
  const production = await timeIt(runs, () => decodeImage(bytes, { maxPixels: 100_000_000 }));
  const hash = await timeIt(runs, () => computePerceptualHash(production.last.pixels));
  const detail = await timeIt(runs, () => detailLevel(production.last.pixels));
  const fullHash = computePerceptualHash(full.last) as PerceptualHash;
  // The alternative path end to end: hash and detail level computed on the full-size pixels.
  const fullHashing = await timeIt(runs, () => {
    computePerceptualHash(full.last);
    detailLevel(full.last);
  });
  const perImageFull = full.msPerRun + fullHashing.msPerRun;
  const distance = hammingDistance(fullHash, hash.last as PerceptualHash);
  const perImage = production.msPerRun + hash.msPerRun + detail.msPerRun;
  console.log(
    [
      label.padEnd(26),
      String(Math.round(bytes.length / 1024)).padStart(7),
      full.msPerRun.toFixed(1).padStart(15),
      production.msPerRun.toFixed(1).padStart(21),
      hash.msPerRun.toFixed(2).padStart(8),
      detail.msPerRun.toFixed(2).padStart(10),
      `${(((hash.msPerRun + detail.msPerRun) / production.msPerRun) * 100).toFixed(1)}%`.padStart(12),
      (1000 / perImageFull).toFixed(1).padStart(19),
      (1000 / perImage).toFixed(1).padStart(25),
      String(distance).padStart(11),
    ].join(' '),
  );
}
