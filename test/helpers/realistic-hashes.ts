import { hashFromHex, type PerceptualHash } from '../../src/dedupe/perceptual-hash.js';

/**
 * Perceptual hashes that behave like those of real uploads, for the index benchmark (bench/near-duplicate-index.ts) and the store contract test.
 *
 * Uniform random hashes flatter a chunk index: every 16-bit value is equally rare. Real hashes are
 * not like that. Each row of the 16x16 grid is one chunk, and a row crossing a flat region (sky, a
 * wall, a studio background, a letterbox) is all ones or all zeros, so 0x0000 and 0xffff are far
 * more common than other values (3.9 % and 3.6 % of all chunks over the 116 real photographs in the
 * shared test data, against 0.0015 % each if uniform). And uploads come in clusters: the same
 * picture re-encoded, resized or lightly edited by many users.
 *
 * So a scene here is a grid of block brightnesses (a smooth field of gradients and blobs, sometimes
 * with flat bands or a letterbox), turned into bits by blockhash's own rule (per horizontal band of
 * four rows, a bit is 1 when the block is brighter than the band's median). Copies of a scene perturb
 * the grid (noise, a brightness shift, a slight blur) and are hashed again, so their bits flip where
 * a real re-encode flips them: at blocks close to the median.
 */

const GRID = 16;
const BLOCKS = GRID * GRID;

/** A small, fast, seeded generator (mulberry32): the same seed gives the same data set. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function scene(random: () => number): Float64Array {
  const grid = new Float64Array(BLOCKS);
  const gx = (random() - 0.5) * 4;
  const gy = (random() - 0.5) * 6;
  const base = 60 + random() * 120;
  const blobs = Array.from({ length: 3 + Math.floor(random() * 8) }, () => ({
    x: random() * GRID,
    y: random() * GRID,
    radius: 0.7 + random() * 4,
    amplitude: (random() - 0.5) * 200,
  }));
  for (let y = 0; y < GRID; y++) {
    for (let x = 0; x < GRID; x++) {
      let value = base + gx * x + gy * y;
      for (const blob of blobs) {
        const d2 = (x - blob.x) ** 2 + (y - blob.y) ** 2;
        value += blob.amplitude * Math.exp(-d2 / (2 * blob.radius ** 2));
      }
      grid[y * GRID + x] = value + (random() - 0.5) * 40;
    }
  }
  // Flat regions, in proportions that reproduce the real photographs' share of hot chunk values.
  if (random() < 0.3) {
    const rows = random() < 0.8 ? 1 : 2 + Math.floor(random() * 2);
    const sky = 200 + random() * 55;
    for (let i = 0; i < rows * GRID; i++) grid[i] = sky;
  }
  if (random() < 0.15) {
    const rows = random() < 0.8 ? 1 : 2;
    const floor = random() * 30;
    for (let i = BLOCKS - rows * GRID; i < BLOCKS; i++) grid[i] = floor;
  }
  if (random() < 0.05) {
    const bar = 1 + Math.floor(random() * 2);
    for (let y = 0; y < GRID; y++) for (let x = 0; x < bar; x++) grid[y * GRID + x] = grid[y * GRID + GRID - 1 - x] = 0;
  }
  return grid;
}

function perturbed(grid: Float64Array, random: () => number): Float64Array {
  const copy = new Float64Array(BLOCKS);
  const shift = (random() - 0.5) * 20;
  const noise = random() * 10;
  const blur = random() < 0.3 ? 0.15 : 0;
  for (let y = 0; y < GRID; y++) {
    for (let x = 0; x < GRID; x++) {
      const i = y * GRID + x;
      const neighbours = ((grid[i - 1] ?? grid[i]!) + (grid[i + 1] ?? grid[i]!)) / 2;
      copy[i] = (1 - blur) * grid[i]! + blur * neighbours + shift + (random() - 0.5) * noise;
    }
  }
  return copy;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length / 2;
  return (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** blockhash's rule: per band of four rows, 1 when brighter than the band median (ties: bright half). */
function hashOfGrid(grid: Float64Array): PerceptualHash {
  const bits: number[] = [];
  const bandSize = BLOCKS / 4;
  for (let band = 0; band < 4; band++) {
    const values = Array.from(grid.subarray(band * bandSize, (band + 1) * bandSize));
    const m = median(values);
    for (const v of values) bits.push(v > m || (Math.abs(v - m) < 1 && m > 127.5) ? 1 : 0);
  }
  let hex = '';
  for (let i = 0; i < BLOCKS; i += 4) hex += ((bits[i]! << 3) | (bits[i + 1]! << 2) | (bits[i + 2]! << 1) | bits[i + 3]!).toString(16);
  return hashFromHex(hex);
}

/** How many copies a scene gets: most none, a long tail of pictures uploaded again and again. */
function copiesOf(random: () => number): number {
  const u = random();
  if (u < 0.6) return 0;
  if (u < 0.85) return 1 + Math.floor(random() * 3);
  if (u < 0.97) return 4 + Math.floor(random() * 17);
  return 20 + Math.floor(random() * 81);
}

/** `count` hashes in clusters (a scene followed by its copies), deterministic for a seed. */
export function* realisticHashes(count: number, seed = 1): Generator<PerceptualHash> {
  const random = seededRandom(seed);
  let produced = 0;
  while (produced < count) {
    const original = scene(random);
    yield hashOfGrid(original);
    produced++;
    for (let copies = copiesOf(random); copies > 0 && produced < count; copies--, produced++) yield hashOfGrid(perturbed(original, random));
  }
}

/** Uniform random hashes: the flattering case, measured alongside for contrast. */
export function* uniformHashes(count: number, seed = 1): Generator<PerceptualHash> {
  const random = seededRandom(seed);
  for (let i = 0; i < count; i++) {
    let hex = '';
    for (let j = 0; j < 8; j++) hex += Math.floor(random() * 2 ** 32).toString(16).padStart(8, '0');
    yield hashFromHex(hex);
  }
}
