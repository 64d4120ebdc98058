import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { computePerceptualHash, detailLevel, hammingDistance, type PerceptualHash } from '../src/dedupe/perceptual-hash.js';
import { AppError } from '../src/errors.js';
import { decodeImage } from '../src/media/image-decode.js';
import { flatImage, patternImage } from './helpers/images.js';
import { rejection } from './helpers/rejection.js';

/** How bytes become a perceptual hash: the decisions the README documents, checked on generated images. */

const decode = (bytes: Buffer) => decodeImage(bytes, { maxPixels: 50_000_000 });
const hashOf = async (bytes: Buffer) => computePerceptualHash((await decode(bytes)).pixels) as PerceptualHash;

const decodeError = (bytes: Buffer, maxPixels = 50_000_000) => rejection(decodeImage(bytes, { maxPixels }), AppError);

describe('image identity', () => {
  it('applies EXIF orientation: a tagged photo hashes like the same photo rotated in its pixels', async () => {
    const photo = await patternImage(21, { format: 'png' });
    const tagged = await sharp(photo).jpeg({ quality: 92 }).withMetadata({ orientation: 6 }).toBuffer();
    const rotated = await sharp(photo).rotate(90).jpeg({ quality: 92 }).toBuffer();
    const upright = await sharp(photo).jpeg({ quality: 92 }).toBuffer();
    expect((await decode(tagged))).toMatchObject({ width: 480, height: 640 });
    expect(hammingDistance(await hashOf(tagged), await hashOf(rotated))).toBeLessThanOrEqual(4);
    expect(hammingDistance(await hashOf(tagged), await hashOf(upright))).toBeGreaterThan(40);
  });

  it('hashes the first frame of an animated image and says it is animated', async () => {
    const first = await patternImage(22, { format: 'png' });
    const gif = await sharp([first, await patternImage(23, { format: 'png' })], { join: { animated: true } }).gif().toBuffer();
    const decoded = await decode(gif);
    expect(decoded.animated).toBe(true);
    expect(hammingDistance(computePerceptualHash(decoded.pixels) as PerceptualHash, await hashOf(first))).toBeLessThanOrEqual(4);
    expect((await decode(first)).animated).toBe(false);
  });

  it('gives no hash to images smaller than the 16x16 grid', async () => {
    const tiny = await decode(await patternImage(24, { width: 15, height: 40, format: 'png' }));
    expect(computePerceptualHash(tiny.pixels)).toBeNull();
    expect(computePerceptualHash((await decode(await patternImage(24, { width: 16, height: 16, format: 'png' }))).pixels)).not.toBeNull();
  });

  it('measures flat pictures as low in detail and photos-like pictures as high', async () => {
    expect(detailLevel((await decode(await flatImage({ r: 90, g: 120, b: 200 }))).pixels)).toBeLessThan(1);
    expect(detailLevel((await decode(await patternImage(25))).pixels)).toBeGreaterThan(20);
  });

  it('refuses truncated data and images over the pixel limit with clear errors', async () => {
    const photo = await patternImage(26);
    expect((await decodeError(photo.subarray(0, photo.length - 2))).code).toBe('undecodable_media');
    expect((await decodeError(Buffer.from('not an image at all'))).code).toBe('undecodable_media');
    const limited = await decodeError(photo, 640 * 480 - 1);
    expect(limited.code).toBe('media_too_large');
    expect(limited.detail).toContain('IMAGE_MAX_PIXELS');
  });
});
