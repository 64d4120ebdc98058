import sharp, { type Metadata } from 'sharp';
import { AppError, messageOf } from '../errors.js';

/**
 * Turns image bytes into 8-bit RGBA pixels for hashing. The only module that imports sharp.
 *
 * The pixels are prepared the way the reference blockhash implementation reads a file, so our
 * hashes match published test vectors: embedded colour profiles are ignored (not converted to
 * sRGB), and alpha is kept so that fully transparent pixels count as white. Two deliberate
 * departures, both documented in the README:
 * - EXIF orientation is applied, so a phone photo and the same photo re-saved upright by a
 *   platform (which bakes the rotation into the pixels) hash alike.
 * - Animated images are judged by their first frame.
 */

export type RgbaImage = { width: number; height: number; data: Uint8Array };

export type DecodedImage = {
  pixels: RgbaImage;
  /** Size as displayed (after EXIF orientation), before any downscaling for hashing. */
  width: number;
  height: number;
  animated: boolean;
};

/**
 * A JPEG is decoded at 1/2, 1/4 or 1/8 scale (libjpeg's shrink-on-load, several times faster) as
 * long as the short side keeps at least this many pixels, i.e. 16 pixels per hash block. On the
 * reference vectors this moves no hash by even one bit (`npm run conformance`).
 */
const MIN_SHORT_SIDE_AFTER_SHRINK = 256;

export async function decodeImage(bytes: Uint8Array, options: { maxPixels: number }): Promise<DecodedImage> {
  // failOn 'error': the warnings many real-world files carry and browsers ignore (extraneous bytes
  // between markers, a damaged metadata chunk) do not refuse an image; truncated or undecodable
  // data still does, with a clear 400.
  const input = { limitInputPixels: options.maxPixels, ignoreIcc: true, autoOrient: true, failOn: 'error' } as const;
  let metadata: Metadata;
  try {
    // Header only, nothing decoded: the pixel limit is checked below, with the image's size in the message.
    metadata = await sharp(bytes, { ...input, limitInputPixels: false }).metadata();
  } catch (error) {
    throw undecodable(error);
  }
  const width = metadata.autoOrient?.width ?? metadata.width;
  const height = metadata.autoOrient?.height ?? metadata.height;
  if (!width || !height) throw new AppError('undecodable_media', 'The image has no dimensions.');
  if (width * height > options.maxPixels) {
    throw new AppError(
      'media_too_large',
      `The image is ${width}x${height} pixels, more than the limit of ${options.maxPixels} (IMAGE_MAX_PIXELS).`,
    );
  }

  let pipeline = sharp(bytes, input);
  const shrink = metadata.format === 'jpeg' ? jpegShrinkFactor(width, height) : boxShrinkFactor(width, height);
  if (shrink > 1) {
    pipeline = pipeline.resize(Math.floor(width / shrink), Math.floor(height / shrink), { fit: 'fill', kernel: 'cubic' });
  }
  try {
    const { data, info } = await pipeline.ensureAlpha().raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    return {
      pixels: { width: info.width, height: info.height, data },
      width,
      height,
      animated: (metadata.pages ?? 1) > 1,
    };
  } catch (error) {
    throw undecodable(error);
  }
}

/**
 * The picture as a classifier sees it: displayed orientation, colours converted to sRGB (unlike the
 * hash path, a classifier was trained on correctly coloured pictures), stretched to a `size` square
 * as the model expects, transparency over white.
 */
export async function decodeForClassifier(bytes: Uint8Array, options: { size: number; maxPixels: number }): Promise<RgbaImage> {
  try {
    const { data, info } = await sharp(bytes, { limitInputPixels: options.maxPixels, autoOrient: true, failOn: 'error' })
      .resize(options.size, options.size, { fit: 'fill' })
      .flatten({ background: '#ffffff' })
      .ensureAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    return { width: info.width, height: info.height, data };
  } catch (error) {
    throw undecodable(error);
  }
}

/** Encodes decoded pixels (a video frame, say) as a JPEG for providers that take files. */
export async function encodeJpeg(pixels: RgbaImage): Promise<Buffer> {
  return sharp(pixels.data, { raw: { width: pixels.width, height: pixels.height, channels: 4 } })
    .flatten({ background: '#ffffff' })
    .jpeg({ quality: 88 })
    .toBuffer();
}

/**
 * Large pictures in other formats are decoded at full size, and hashing 12 million pixels in
 * JavaScript costs as much as decoding them. An integer shrink averages whole boxes of pixels, which
 * keeps each hash block's brightness almost exactly; it is used only from a short side of 1024 px,
 * keeping at least 512 px (32 per hash block). Smaller images, the reference vectors among them, keep
 * the exact path.
 */
const MIN_SHORT_SIDE_FOR_BOX_SHRINK = 1024;
const MIN_SHORT_SIDE_AFTER_BOX_SHRINK = 512;

function boxShrinkFactor(width: number, height: number): number {
  const shortSide = Math.min(width, height);
  if (shortSide < MIN_SHORT_SIDE_FOR_BOX_SHRINK) return 1;
  return Math.floor(shortSide / MIN_SHORT_SIDE_AFTER_BOX_SHRINK);
}

function jpegShrinkFactor(width: number, height: number): number {
  let factor = 1;
  while (factor < 8 && Math.min(width, height) / (factor * 2) >= MIN_SHORT_SIDE_AFTER_SHRINK) factor *= 2;
  return factor;
}

function undecodable(error: unknown): AppError {
  const message = messageOf(error);
  if (/pixel limit/i.test(message)) {
    return new AppError('media_too_large', 'The image has more pixels than allowed (IMAGE_MAX_PIXELS).');
  }
  // libvips messages name the failing loader, never a file path (input is always a buffer).
  const firstLine = message.split('\n')[0]?.slice(0, 200) ?? '';
  return new AppError('undecodable_media', `The image could not be decoded (${firstLine}).`, { cause: error });
}
