import { bmvbhash } from 'blockhash-core';
import type { RgbaImage } from '../media/image-decode.js';

/**
 * The 256-bit blockhash ("bmvbhash", 16x16 grid) and the representations we store it in.
 * The only module that imports blockhash-core.
 *
 * - hex: 64 hex characters, the form in API responses and in moderation_log.
 * - words: four unsigned 64-bit integers, the form in the images table (MariaDB silently returns 0
 *   for XOR on binary strings, so hashes are never stored as bytes).
 * - chunks: sixteen 16-bit values, the keys of the multi-index (see store/README section in the
 *   main README): two hashes within distance 15 share at least one chunk exactly.
 */

export const HASH_GRID = 16;
export const CHUNK_COUNT = 16;

export type PerceptualHash = {
  hex: string;
  words: [bigint, bigint, bigint, bigint];
};

/** Returns null for images smaller than the grid: their hash would not describe anything. */
export function computePerceptualHash(image: RgbaImage): PerceptualHash | null {
  if (image.width < HASH_GRID || image.height < HASH_GRID) return null;
  return hashFromHex(bmvbhash({ width: image.width, height: image.height, data: image.data }, HASH_GRID));
}

export function hashFromHex(hex: string): PerceptualHash {
  if (!/^[0-9a-f]{64}$/i.test(hex)) throw new Error('a perceptual hash is 64 hex characters');
  const lower = hex.toLowerCase();
  const words = [0, 1, 2, 3].map((i) => BigInt(`0x${lower.slice(i * 16, i * 16 + 16)}`)) as PerceptualHash['words'];
  return { hex: lower, words };
}

export function hashFromWords(words: readonly bigint[]): PerceptualHash {
  const hex = words.map((word) => BigInt.asUintN(64, word).toString(16).padStart(16, '0')).join('');
  return hashFromHex(hex);
}

/**
 * Sixteen 16-bit chunk values: the keys of the near-duplicate index. Chunk j takes one block from
 * each row r of the 16x16 grid, the one in column (5r + j) mod 16, row 0 as its most significant
 * bit. Any split of the 256 bits into 16 disjoint chunks keeps the guarantee (two hashes within
 * distance 15 agree on a whole chunk); this one spreads each chunk over every row and every column.
 * Splitting by rows instead made the index slow on real pictures: a row across sky, a wall or a
 * dark floor is 0x0000 or 0xffff, and such a value was shared by up to a quarter of all stored images
 * (measured with bench/near-duplicate-index.ts). Here a flat region fixes only a few bits of each chunk.
 * sql/<dialect>/0005_scattered_hash_chunks.sql computes the same values in SQL: change both together.
 */
export function hashChunks(hash: PerceptualHash): number[] {
  const rows = Array.from({ length: HASH_GRID }, (_, row) => parseInt(hash.hex.slice(row * 4, row * 4 + 4), 16));
  const chunks: number[] = [];
  for (let chunk = 0; chunk < CHUNK_COUNT; chunk++) {
    let value = 0;
    for (let row = 0; row < HASH_GRID; row++) {
      const column = (5 * row + chunk) % HASH_GRID;
      value = (value << 1) | (((rows[row] as number) >> (HASH_GRID - 1 - column)) & 1);
    }
    chunks.push(value);
  }
  return chunks;
}

/**
 * The four words XORed together. Stored beside every chunk row: popcount(fold(a) ^ fold(b)) never
 * exceeds the distance between a and b, so the index drops most candidates of a busy chunk value
 * without reading their images row.
 */
export function hashFold(hash: PerceptualHash): bigint {
  return hash.words[0] ^ hash.words[1] ^ hash.words[2] ^ hash.words[3];
}

function popcount32(v: number): number {
  v -= (v >>> 1) & 0x55555555;
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

/** Bits set in a 64-bit word. Runs for every candidate row of a SQLite lookup, so no BigInt loop. */
export function popcount64(value: bigint): number {
  const v = BigInt.asUintN(64, value);
  return popcount32(Number(v & 0xffffffffn)) + popcount32(Number(v >> 32n));
}

export function hammingDistance(a: PerceptualHash, b: PerceptualHash): number {
  let distance = 0;
  for (let i = 0; i < 4; i++) distance += popcount64((a.words[i] as bigint) ^ (b.words[i] as bigint));
  return distance;
}

/** The item whose hash is closest to `hash`, when within `radius`; items without a hash are skipped. */
export function nearestWithin<Item>(
  items: Iterable<Item>,
  hashOf: (item: Item) => PerceptualHash | null | undefined,
  hash: PerceptualHash,
  radius: number,
): { item: Item; distance: number } | undefined {
  let best: { item: Item; distance: number } | undefined;
  for (const item of items) {
    const candidate = hashOf(item);
    if (!candidate) continue;
    const distance = hammingDistance(candidate, hash);
    if (distance <= radius && (!best || distance < best.distance)) best = { item, distance };
  }
  return best;
}

/**
 * How much structure the picture has: the standard deviation of the brightness (0..255) of the
 * 16x16 blocks the hash is made of. A flat or nearly flat picture has a near-arbitrary hash, so its
 * neighbours say nothing about it.
 */
export function detailLevel(image: RgbaImage): number {
  const blockWidth = Math.max(1, Math.floor(image.width / HASH_GRID));
  const blockHeight = Math.max(1, Math.floor(image.height / HASH_GRID));
  const grid = Math.min(HASH_GRID, image.width, image.height);
  const means: number[] = [];
  for (let by = 0; by < grid; by++) {
    for (let bx = 0; bx < grid; bx++) {
      let total = 0;
      for (let y = by * blockHeight; y < (by + 1) * blockHeight; y++) {
        let offset = (y * image.width + bx * blockWidth) * 4;
        for (let x = 0; x < blockWidth; x++, offset += 4) {
          const alpha = image.data[offset + 3] as number;
          total += alpha === 0 ? 765 : (image.data[offset] as number) + (image.data[offset + 1] as number) + (image.data[offset + 2] as number);
        }
      }
      means.push(total / (3 * blockWidth * blockHeight));
    }
  }
  const average = means.reduce((sum, value) => sum + value, 0) / means.length;
  const variance = means.reduce((sum, value) => sum + (value - average) ** 2, 0) / means.length;
  return Math.sqrt(variance);
}
