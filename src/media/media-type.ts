import { fileTypeFromBuffer } from 'file-type';
import { AppError } from '../errors.js';

/**
 * Decides what a file is from its first bytes (magic numbers), never from the URL or the
 * Content-Type header, which the sender controls. The only module that imports file-type.
 */

export const acceptedImageTypes = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
  avif: 'image/avif',
  tiff: 'image/tiff',
} as const;

export type ImageFormat = keyof typeof acceptedImageTypes;

const byMime = new Map<string, ImageFormat>(
  Object.entries(acceptedImageTypes).map(([format, mime]) => [mime, format as ImageFormat]),
);

export async function sniffImageFormat(bytes: Uint8Array): Promise<{ format: ImageFormat; mime: string }> {
  const detected = await fileTypeFromBuffer(bytes);
  const format = detected ? byMime.get(detected.mime) : undefined;
  if (!detected || !format) {
    const what = detected ? `${detected.mime} content` : 'content that is not a recognised image format';
    throw new AppError(
      'unsupported_media_type',
      `The URL returned ${what}. Accepted image formats: ${Object.keys(acceptedImageTypes).join(', ')}.`,
    );
  }
  return { format, mime: detected.mime };
}
